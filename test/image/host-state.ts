import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { isMountPoint, listPlaces, NETNS_DIR, readSysctls, removeAddedPlaces, unbindNetnsIfAdded, writeSysctls, type PlaceEntries } from '../helpers/host-state'
import { chains, removeAddedChains, type Table } from '../helpers/iptables'

/**
 * What podman changes outside the directories it is configured with:
 * netavark's iptables chains, the PODMAN_PLACES below, the bind mount
 * netavark makes of /run/netns, and net.ipv4.ip_forward. Recorded before the
 * test's network is created (in a file, so the next run can undo what a
 * crashed one left) and put back after.
 */
export interface HostState {
  readonly chains: Readonly<Record<Table, readonly string[]>>
  readonly places: PlaceEntries
  readonly netnsMounted: boolean
  readonly sysctls: Record<string, string>
}

// Written by podman even with a configuration of its own: /run/containers
// (and netavark's networks/ in it), the blob info cache in
// /var/lib/containers/cache, the short-name alias cache's lock.
const PODMAN_PLACES = ['/run/containers/networks', '/run/containers', '/var/lib/containers/cache', '/var/lib/containers', '/var/cache/containers']
const SYSCTLS = ['net/ipv4/ip_forward']

export function recordHostState (file: string): HostState {
  const state: HostState = {
    chains: { nat: chains('nat'), filter: chains('filter') },
    places: listPlaces(PODMAN_PLACES),
    netnsMounted: isMountPoint(NETNS_DIR),
    sysctls: readSysctls(SYSCTLS)
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
  removeAddedPlaces(PODMAN_PLACES, before.places)
  unbindNetnsIfAdded(before.netnsMounted)
  writeSysctls(before.sysctls)
  rmSync(file, { force: true })
}
