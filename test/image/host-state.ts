import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { chains, removeAddedChains, type Table } from '../helpers/iptables'

/**
 * What podman changes outside the directories it is configured with:
 * netavark's iptables chains, the PODMAN_PLACES below, the bind mount
 * netavark makes of /run/netns, and net.ipv4.ip_forward. Recorded before the test's network is created (in a
 * file, so the next run can undo what a crashed one left) and put back after.
 */
export interface HostState {
  readonly chains: Readonly<Record<Table, readonly string[]>>
  /** Which of PODMAN_PLACES existed. */
  readonly places: readonly string[]
  readonly netnsMounted: boolean
  readonly ipForward: string
}

// Written by podman even with a configuration of its own: /run/containers
// (and netavark's networks/ in it), the blob info cache in
// /var/lib/containers/cache, the short-name alias cache's lock.
const PODMAN_PLACES = ['/run/containers/networks', '/run/containers', '/var/lib/containers/cache', '/var/lib/containers', '/var/cache/containers']
const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward'
const NETNS = '/run/netns'

export function recordHostState (file: string): HostState {
  const state: HostState = {
    chains: { nat: chains('nat'), filter: chains('filter') },
    places: PODMAN_PLACES.filter(p => existsSync(p)),
    netnsMounted: isMountPoint(NETNS),
    ipForward: readFileSync(IP_FORWARD, 'utf8').trim()
  }
  writeFileSync(file, JSON.stringify(state))
  return state
}

/**
 * Removes the netavark chains that did not exist before (and the rules that
 * jump to them), rules that still name `subnet`, and puts the rest back.
 */
export function restoreHostState (file: string, subnet: string): void {
  if (!existsSync(file)) return
  const before = JSON.parse(readFileSync(file, 'utf8')) as HostState
  removeAddedChains(before.chains, ['NETAVARK'], [subnet])
  for (const place of PODMAN_PLACES) {
    if (!before.places.includes(place)) rmSync(place, { recursive: true, force: true })
  }
  // Only an empty one: a namespace in it belongs to someone else.
  if (before.netnsMounted === false && isMountPoint(NETNS) && readdirSync(NETNS).length === 0) {
    try { execFileSync('umount', [NETNS], { stdio: 'ignore' }) } catch { /* busy: left for the next run */ }
  }
  if (readFileSync(IP_FORWARD, 'utf8').trim() !== before.ipForward) writeFileSync(IP_FORWARD, before.ipForward)
  rmSync(file, { force: true })
}

function isMountPoint (path: string): boolean {
  // mountinfo's fifth field is the mount point.
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some(line => line.split(' ')[4] === path)
}
