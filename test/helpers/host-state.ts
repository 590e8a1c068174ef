import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * The pieces of host state the image and real-node tiers change outside
 * directories of their own, each read before a run and put back after it.
 * Each tier writes what it read to a file of its own first, so the next run
 * can undo what a crashed one left. (iptables chains are iptables.ts.)
 */

/** Directories that exist, each with the entries it had. */
export type PlaceEntries = Record<string, string[]>

/**
 * Which of `places` exist, and what is in each: the directories tools write
 * whatever paths they are configured with (podman's caches, containerd's
 * shim sockets, CNI's results). A list of places may nest: a place inside
 * another is also one of its entries.
 */
export function listPlaces (places: readonly string[]): PlaceEntries {
  return Object.fromEntries(places.filter(p => existsSync(p)).map(p => [p, readdirSync(p)]))
}

/** The places, and the entries of places, that appeared since `before` was listed. */
export function addedPlaces (places: readonly string[], before: PlaceEntries): string[] {
  return places.filter(p => existsSync(p)).flatMap(p => {
    const had = before[p]
    return had === undefined ? [p] : readdirSync(p).filter(e => !had.includes(e)).map(e => join(p, e))
  })
}

/** Removes what addedPlaces names. What was there before is never touched. */
export function removeAddedPlaces (places: readonly string[], before: PlaceEntries): void {
  for (const path of addedPlaces(places, before)) rmSync(path, { recursive: true, force: true })
}

/** The values of the sysctls that exist here, by their /proc/sys path (`net/ipv4/ip_forward`). */
export function readSysctls (keys: readonly string[]): Record<string, string> {
  return Object.fromEntries(keys.filter(k => existsSync(`/proc/sys/${k}`)).map(k => [k, readFileSync(`/proc/sys/${k}`, 'utf8').trim()]))
}

/** Writes back the values that changed. Inside some sandboxes /proc/sys is read-only; those stay as they are. */
export function writeSysctls (values: Readonly<Record<string, string>>): void {
  for (const [key, value] of Object.entries(values)) {
    try {
      if (readFileSync(`/proc/sys/${key}`, 'utf8').trim() !== value) writeFileSync(`/proc/sys/${key}`, value)
    } catch { /* read-only here */ }
  }
}

export function isMountPoint (path: string): boolean {
  // mountinfo's fifth field is the mount point.
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some(line => line.split(' ')[4] === path)
}

export const NETNS_DIR = '/run/netns'

/**
 * podman and CNI bind /run/netns over itself the first time they need it.
 * When it was not a mount point before the run, the bind goes, but only while
 * it is empty: a namespace in it belongs to someone else.
 */
export function unbindNetnsIfAdded (mountedBefore: boolean): void {
  if (mountedBefore || !isMountPoint(NETNS_DIR) || readdirSync(NETNS_DIR).length > 0) return
  try { execFileSync('umount', [NETNS_DIR], { stdio: 'ignore' }) } catch { /* busy: left for the next run */ }
}
