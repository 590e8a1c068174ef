import { execFile, execFileSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Agent, request } from 'undici'
import { freePort } from '../../dev/free-port'
import { Supervisor, terminate } from '../helpers/supervisor'
import { isMountPoint, listPlaces, NETNS_DIR, readSysctls, removeAddedPlaces, unbindNetnsIfAdded, writeSysctls, type PlaceEntries } from '../helpers/host-state'
import { allChains, removeAddedChains, type Table } from '../helpers/iptables'
import { freeSubnet, machineNetworks } from '../helpers/networks'
import { startControlPlane, type ControlPlane } from './control-plane'
import { cniConflist, containerdConfig, corefile, kubeletConfig, kubeProxyConfig } from './node-configs'
import { until } from '../helpers/until'

/**
 * A real single-node Kubernetes cluster on this machine, for tests: the
 * control plane, containerd + runc, kubelet, kube-proxy (iptables), CoreDNS
 * and metrics-server. Pods are real processes from images imported from OCI
 * archives (nothing is pulled). Everything host-wide that a run changes is
 * recorded in STATE before it is changed, so `stop()` and the next run after
 * a crash put the machine back.
 *
 * The host side (API server, CoreDNS, metrics-server, kubelet) listens on one
 * /32 address on `lo`: pods cannot reach 127.0.0.1, and the kernel here has no
 * dummy links. All addresses come from ranges that overlap nothing the
 * machine has.
 */
export interface RealNode {
  readonly kubeconfig: string
  readonly nodeName: string
  /** The host-side address pods reach the API server, DNS and metrics-server on. */
  readonly hostAddress: string
  readonly podCidr: string
  readonly serviceCidr: string
  /** Imports an OCI archive into containerd's Kubernetes namespace. */
  importImage (archive: string): Promise<void>
  stop (): Promise<void>
}

export interface RealNodeOptions {
  /** scripts/cluster/build-control-plane.sh's directory. */
  readonly controlPlaneBin: string
  /** scripts/cluster/build-node.sh's directory. */
  readonly nodeBin: string
  readonly etcd: string
  readonly dir: string
}

const NODE_NAME = 'guild-node'
const CNI_NETWORK = 'guild-node'
export const BRIDGE = 'guildbr0'
const STATE = '/run/guild-router-real-node.json'
// Three /24s: host addresses, pods, Services. The first free one of each.
const HOST_RANGES = ['10.213.57.0/24', '10.223.57.0/24', '172.30.157.0/24']
const POD_RANGES = ['10.214.0.0/24', '10.224.0.0/24', '172.30.158.0/24']
const SERVICE_RANGES = ['10.215.0.0/24', '10.225.0.0/24', '172.30.159.0/24']
const SYSCTLS = ['net/ipv4/ip_forward', 'net/bridge/bridge-nf-call-iptables', 'net/ipv4/conf/all/route_localnet']
// Written whatever the configured paths: shim sockets, CNI result caches, and
// kubelet's links to container logs. What a run adds there is removed.
export const HOST_PLACES = ['/run/containerd/s', '/run/containerd', '/var/lib/cni/results', '/var/lib/cni', '/var/log/containers']

interface HostState {
  readonly dir: string
  readonly hostAddress: string
  readonly podCidr: string
  readonly chains: Record<Table, string[]>
  readonly sysctls: Record<string, string>
  readonly netnsMounted: boolean
  /** HOST_PLACES that existed, and their entries. */
  readonly places: PlaceEntries
}

const run = promisify(execFile)

export async function startRealNode (options: RealNodeOptions): Promise<RealNode> {
  // A crashed run's node must be gone before this one touches anything.
  await cleanUp()
  const { dir } = options
  mkdirSync(dir, { recursive: true })
  // Services between pods on one bridge need bridged traffic to pass iptables.
  if (!existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables')) throw new Error('the kernel has no br_netfilter: kube-proxy cannot serve pods on the bridge')
  const taken = machineNetworks()
  const hostRange = freeSubnet(taken, HOST_RANGES)
  const podCidr = freeSubnet(taken, POD_RANGES)
  const serviceCidr = freeSubnet(taken, SERVICE_RANGES)
  const hostAddress = hostRange.replace(/\.0\/24$/, '.1')
  const state: HostState = {
    dir,
    hostAddress,
    podCidr,
    chains: allChains(),
    sysctls: readSysctls(SYSCTLS),
    netnsMounted: isMountPoint(NETNS_DIR),
    places: listPlaces(HOST_PLACES)
  }
  writeFileSync(STATE, JSON.stringify(state))

  const processes = new Supervisor(dir)
  let plane: ControlPlane | undefined
  const startProcess = (name: string, cmd: string, args: string[]): ChildProcess => processes.start(name, cmd, args)
  const stopProcesses = async (): Promise<void> => { await processes.stopAll() }
  const stop = async (): Promise<void> => {
    const containerd = join(dir, 'containerd', 'containerd.sock')
    // kubelet first, so nothing restarts what is removed next.
    const kubelet = processes.find('kubelet')
    if (kubelet !== undefined) await terminate(kubelet)
    if (existsSync(containerd)) {
      // Sandboxes own network namespaces and CNI rules: remove them through
      // the runtime while it runs (crictl's 2 s default times out silently).
      await run(join(options.nodeBin, 'crictl'), ['--runtime-endpoint', `unix://${containerd}`, '--timeout', '60s', 'rmp', '-fa'], { timeout: 90_000 }).catch(() => undefined)
    }
    await stopProcesses()
    await plane?.stop()
    await run(join(options.nodeBin, 'kube-proxy'), ['--cleanup'], { timeout: 60_000 }).catch(() => undefined)
    await cleanUp()
  }

  try {
    execFileSync('ip', ['addr', 'add', `${hostAddress}/32`, 'dev', 'lo'])
    const pki = makeFrontProxyPki(join(dir, 'pki'))
    plane = await startControlPlane(options.controlPlaneBin, options.etcd, join(dir, 'control-plane'), {
      address: hostAddress, serviceCidr, fakeNodes: false, aggregation: pki
    })
    const kubeconfig = plane.kubeconfig

    // containerd, with its own root, state and socket.
    const ctrDir = join(dir, 'containerd')
    mkdirSync(join(dir, 'cni', 'net.d'), { recursive: true })
    writeFileSync(join(ctrDir + '.toml'), containerdConfig(ctrDir, join(dir, 'cni', 'net.d')))
    writeFileSync(join(dir, 'cni', 'net.d', '10-guild.conflist'), cniConflist({ network: CNI_NETWORK, bridge: BRIDGE, podCidr, ipamDir: join(dir, 'cni', 'ipam') }))
    startProcess('containerd', 'containerd', ['--config', `${ctrDir}.toml`])
    await until('containerd', async () => existsSync(join(ctrDir, 'containerd.sock')) ? true : undefined, 30_000)
    const importImage = async (archive: string): Promise<void> => {
      await run('ctr', ['--address', join(ctrDir, 'containerd.sock'), '-n', 'k8s.io', 'images', 'import', '--all-platforms', archive], { timeout: 300_000 })
    }
    await importImage(join(options.nodeBin, 'pause.oci.tar'))

    // CoreDNS on the host address, answering cluster.local from the API.
    const [dnsHealth, dnsReady, metricsPort, kubeletPort, proxyHealth, proxyMetrics] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort()])
    writeFileSync(join(dir, 'Corefile'), corefile({ hostAddress, healthPort: dnsHealth, readyPort: dnsReady, kubeconfig }))
    startProcess('coredns', join(options.nodeBin, 'coredns'), ['-conf', join(dir, 'Corefile')])

    // kubelet: its configuration (node-configs.ts) says why each setting.
    writeFileSync(join(dir, 'resolv.conf'), `nameserver ${hostAddress}\n`)
    writeFileSync(join(dir, 'kubelet.yaml'), kubeletConfig({
      hostAddress, port: kubeletPort, resolvConf: join(dir, 'resolv.conf'), containerdSocket: join(ctrDir, 'containerd.sock'), podLogsDir: join(dir, 'pod-logs')
    }))
    startProcess('kubelet', join(options.nodeBin, 'kubelet'), [
      `--config=${join(dir, 'kubelet.yaml')}`, `--kubeconfig=${kubeconfig}`, `--root-dir=${join(dir, 'kubelet')}`,
      `--cert-dir=${join(dir, 'kubelet-pki')}`, `--hostname-override=${NODE_NAME}`, `--node-ip=${hostAddress}`
    ])

    writeFileSync(join(dir, 'kube-proxy.yaml'), kubeProxyConfig({
      kubeconfig, podCidr, nodeName: NODE_NAME, hostAddress, healthPort: proxyHealth, metricsPort: proxyMetrics
    }))
    startProcess('kube-proxy', join(options.nodeBin, 'kube-proxy'), [`--config=${join(dir, 'kube-proxy.yaml')}`])

    // metrics-server on the host, behind the aggregation layer.
    startProcess('metrics-server', join(options.nodeBin, 'metrics-server'), [
      `--kubeconfig=${kubeconfig}`, `--authentication-kubeconfig=${kubeconfig}`, `--authorization-kubeconfig=${kubeconfig}`,
      `--bind-address=${hostAddress}`, `--secure-port=${metricsPort}`, `--cert-dir=${join(dir, 'metrics-server')}`,
      // The shortest resolution it accepts (it must exceed the 10 s kubelet timeout): the HPA sees load soonest.
      '--kubelet-insecure-tls', '--kubelet-preferred-address-types=InternalIP', '--kubelet-use-node-status-port', '--metric-resolution=15s'
    ])
    await kubectlApply(plane, metricsApi(hostAddress, metricsPort))

    await until('the node to be Ready', async () => {
      const node = await getJson(plane as ControlPlane, `/api/v1/nodes/${NODE_NAME}`)
      const ready = (node?.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready')
      return ready?.status === 'True' ? true : undefined
    }, 120_000)
    // An unavailable aggregated API also stalls namespace deletion: fail here, loudly.
    await until('the metrics API (metrics-server.log) to be Available', async () => {
      const service = await getJson(plane as ControlPlane, '/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.metrics.k8s.io')
      const available = (service?.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Available')
      return available?.status === 'True' ? true : undefined
    }, 120_000)
    await until('CoreDNS to be ready', async () => {
      const res = await fetch(`http://${hostAddress}:${dnsReady}/ready`).catch(() => undefined)
      return res?.status === 200 ? true : undefined
    }, 60_000)

    return { kubeconfig, nodeName: NODE_NAME, hostAddress, podCidr, serviceCidr, importImage, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

/**
 * Puts back what STATE says a run changed, whether that run stopped cleanly
 * or crashed: processes still using its directory, mounts under it, network
 * namespaces, iptables chains, the bridge, the host address, sysctls and
 * the pods' cgroups.
 */
export async function cleanUp (): Promise<void> {
  if (!existsSync(STATE)) return
  const state = JSON.parse(readFileSync(STATE, 'utf8')) as HostState
  // Anything left running from that run: shims, containers' processes stay in cgroups below.
  for (const pid of readdirSync('/proc').filter(p => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      if (cmd.includes(state.dir) && Number(pid) !== process.pid) process.kill(Number(pid), 'SIGKILL')
    } catch { /* gone */ }
  }
  killCgroupTasks()
  await new Promise(resolve => setTimeout(resolve, 500))
  // Mounts under the run's directory (pod volumes, containerd's rootfs), deepest first.
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map(l => l.split(' ')[4] ?? '')
    .filter(m => m.startsWith(state.dir + '/') || m.startsWith('/run/netns/cni-') || m.startsWith('/run/containerd/io.containerd'))
    .sort((a, b) => b.length - a.length)
  for (const m of mounts) {
    try { execFileSync('umount', ['-l', m], { stdio: 'ignore' }) } catch { /* already gone */ }
  }
  removeNetworkNamespaces(state.netnsMounted)
  // The bridge plugin names its network in each rule's comment.
  removeAddedChains(state.chains, ['KUBE-', 'CNI-'], [state.podCidr, `name: \\"${CNI_NETWORK}\\"`])
  try { execFileSync('ip', ['link', 'del', BRIDGE], { stdio: 'ignore' }) } catch { /* not there */ }
  try { execFileSync('ip', ['addr', 'del', `${state.hostAddress}/32`, 'dev', 'lo'], { stdio: 'ignore' }) } catch { /* not there */ }
  writeSysctls(state.sysctls)
  removeKubepodsCgroups()
  removeAddedPlaces(HOST_PLACES, state.places)
  rmSync(STATE, { force: true })
}

function cgroupControllers (): string[] {
  return readdirSync('/sys/fs/cgroup').map(c => join('/sys/fs/cgroup', c)).filter(c => existsSync(join(c, 'kubepods')))
}

function killCgroupTasks (): void {
  for (const root of cgroupControllers()) {
    for (const dir of walk(join(root, 'kubepods'))) {
      try {
        for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL')
      } catch { /* gone */ }
    }
  }
}

function removeKubepodsCgroups (): void {
  for (const root of cgroupControllers()) {
    for (const dir of walk(join(root, 'kubepods')).reverse()) {
      try { rmSync(dir, { recursive: false }) } catch { try { execFileSync('rmdir', [dir], { stdio: 'ignore' }) } catch { /* busy */ } }
    }
  }
}

/** A directory tree, parents before children. */
function walk (dir: string): string[] {
  if (!existsSync(dir)) return []
  const out = [dir]
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) out.push(...walk(join(dir, e.name)))
  return out
}

/**
 * Unmounts and deletes the pods' network namespaces under /run/netns.
 * podman binds /run/netns over itself the first time it needs it. If a
 * killed run left namespaces mounted and the image tier ran podman before
 * this clean-up, the bind hides their mounts: the files refuse to go with
 * EBUSY while `umount` says "not mounted". Lifting the bind shows them
 * again; it is put back if it was there before the run.
 */
function removeNetworkNamespaces (netnsMountedBefore: boolean): void {
  const dir = NETNS_DIR
  let lifted = false
  for (let pass = 0; pass < 3 && existsSync(dir); pass++) {
    const busy: string[] = []
    for (const name of readdirSync(dir).filter(n => n.startsWith('cni-'))) {
      const path = join(dir, name)
      if (isMountPoint(path)) {
        try { execFileSync('umount', ['-l', path], { stdio: 'ignore' }) } catch { /* hidden below a bind */ }
      }
      try { unlinkSync(path) } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        if (code === 'EBUSY') busy.push(name)
        else if (code !== 'ENOENT') throw err
      }
    }
    if (busy.length === 0) break
    if (!isMountPoint(dir)) throw new Error(`network namespaces still mounted under ${dir}: ${busy.join(', ')}`)
    execFileSync('umount', ['-l', dir], { stdio: 'ignore' })
    lifted = true
  }
  if (!existsSync(dir)) return
  if (lifted && netnsMountedBefore && !isMountPoint(dir)) {
    execFileSync('mount', ['--make-shared', '--bind', dir, dir], { stdio: 'ignore' })
  }
  unbindNetnsIfAdded(netnsMountedBefore)
}

/** A CA and the front-proxy client certificate the API server presents to metrics-server. */
function makeFrontProxyPki (dir: string): { caFile: string, certFile: string, keyFile: string } {
  mkdirSync(dir, { recursive: true })
  const f = (name: string): string => join(dir, name)
  const openssl = (args: string[]): void => { execFileSync('openssl', args, { stdio: 'ignore' }) }
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=front-proxy-ca'])
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('client.key'), '-out', f('client.csr'), '-subj', '/CN=front-proxy-client'])
  writeFileSync(f('client.ext'), 'extendedKeyUsage=clientAuth\n')
  openssl(['x509', '-req', '-in', f('client.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('client.crt'), '-days', '2', '-extfile', f('client.ext')])
  return { caFile: f('ca.crt'), certFile: f('client.crt'), keyFile: f('client.key') }
}

/**
 * The metrics API, served by metrics-server on the host: a Service with no
 * selector, its EndpointSlice, and the APIService. The API server finds the
 * endpoint through EndpointSlices. A v1 Endpoints object reached them only
 * through kube-controller-manager's mirroring, and once, on a loaded machine,
 * never did: "no endpoints available for service" for two minutes. So the
 * slice is written directly, managed by no controller.
 */
function metricsApi (hostAddress: string, port: number): object[] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'metrics-server', namespace: 'kube-system' }, spec: { ports: [{ name: 'https', port: 443, targetPort: port }] } },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: 'metrics-server-host',
        namespace: 'kube-system',
        labels: { 'kubernetes.io/service-name': 'metrics-server', 'endpointslice.kubernetes.io/managed-by': 'guild-router-real-node' }
      },
      addressType: 'IPv4',
      endpoints: [{ addresses: [hostAddress], conditions: { ready: true } }],
      ports: [{ name: 'https', port, protocol: 'TCP' }]
    },
    {
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      metadata: { name: 'v1beta1.metrics.k8s.io' },
      spec: { group: 'metrics.k8s.io', version: 'v1beta1', service: { name: 'metrics-server', namespace: 'kube-system', port: 443 }, insecureSkipTLSVerify: true, groupPriorityMinimum: 100, versionPriority: 100 }
    }
  ]
}

// The API server's certificate is self-signed for the test.
const insecure = new Agent({ connect: { rejectUnauthorized: false } })

async function getJson (plane: ControlPlane, path: string): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await request(`${plane.server}${path}`, { headers: { authorization: `Bearer ${plane.token}` }, dispatcher: insecure })
  const body = await res.body.json()
  return res.statusCode === 200 ? body : undefined
}

/** Server-side apply of plain objects through the API, as the admin. */
async function kubectlApply (plane: ControlPlane, objects: object[]): Promise<void> {
  for (const o of objects as Array<{ apiVersion: string, kind: string, metadata: { name: string, namespace?: string } }>) {
    const base = o.apiVersion.includes('/') ? `/apis/${o.apiVersion}` : `/api/${o.apiVersion}`
    const plural = `${o.kind.toLowerCase()}${o.kind.endsWith('s') ? '' : 's'}`
    const ns = o.metadata.namespace === undefined ? '' : `/namespaces/${o.metadata.namespace}`
    const res = await request(`${plane.server}${base}${ns}/${plural}/${o.metadata.name}?fieldManager=real-node&force=true`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${plane.token}`, 'content-type': 'application/apply-patch+yaml' },
      body: JSON.stringify(o),
      dispatcher: insecure
    })
    const text = await res.body.text()
    if (res.statusCode >= 300) throw new Error(`apply ${o.kind}/${o.metadata.name}: ${res.statusCode} ${text.slice(0, 300)}`)
  }
}
