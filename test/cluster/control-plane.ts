import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Agent, request } from 'undici'
import { freePort } from '../../dev/free-port'
import { Supervisor } from '../helpers/supervisor'

/**
 * A real Kubernetes control plane for tests: etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler and, by default, KWOK (fake nodes
 * whose pods become Ready without running). Every process logs to a file in
 * `dir`, and `stop()` ends them all whatever state they are in.
 */
export interface ControlPlane {
  readonly kubeconfig: string
  readonly server: string
  /** The admin's bearer token (the kubeconfig's). */
  readonly token: string
  stop (): Promise<void>
}

export interface ControlPlaneOptions {
  /** Where the API server listens and what it advertises; pods must reach it. */
  readonly address?: string
  readonly serviceCidr?: string
  /** false: no KWOK, and the node lifecycle controller on, for a real kubelet. */
  readonly fakeNodes?: boolean
  /** The front-proxy client certificate the aggregation layer presents to extension API servers (metrics-server). */
  readonly aggregation?: { readonly caFile: string, readonly certFile: string, readonly keyFile: string }
}

export async function startControlPlane (bin: string, etcd: string, dir: string, options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const address = options.address ?? '127.0.0.1'
  const fakeNodes = options.fakeNodes ?? true
  mkdirSync(dir, { recursive: true })
  const processes = new Supervisor(dir)
  const run = (name: string, cmd: string, args: string[]): void => { processes.start(name, cmd, args) }
  const stop = async (): Promise<void> => { await processes.stopAll() }

  try {
    const [etcdPort, peerPort, apiPort, cmPort, schedPort, kwokPort] = await Promise.all(Array.from({ length: 6 }, freePort))
    run('etcd', etcd, [
      '--data-dir', join(dir, 'etcd'), '--name', 'test',
      '--listen-client-urls', `http://127.0.0.1:${etcdPort}`, '--advertise-client-urls', `http://127.0.0.1:${etcdPort}`,
      '--listen-peer-urls', `http://127.0.0.1:${peerPort}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peerPort}`,
      '--initial-cluster', `test=http://127.0.0.1:${peerPort}`
    ])

    // Service-account signing keys and a static admin token: no CA to manage.
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }))
    writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }))
    const token = randomBytes(24).toString('hex')
    writeFileSync(join(dir, 'tokens.csv'), `${token},admin,admin,"system:masters"\n`)
    const server = `https://${address}:${apiPort}`
    const kubeconfig = join(dir, 'kubeconfig')
    writeFileSync(kubeconfig, `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: { server: "${server}", insecure-skip-tls-verify: true }
users:
- name: admin
  user: { token: "${token}" }
contexts:
- name: local
  context: { cluster: local, user: admin }
current-context: local
`)

    run('kube-apiserver', join(bin, 'kube-apiserver'), [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`, `--bind-address=${address}`, `--advertise-address=${address}`,
      `--secure-port=${apiPort}`, `--cert-dir=${join(dir, 'certs')}`, `--service-cluster-ip-range=${options.serviceCidr ?? '10.96.0.0/16'}`,
      '--service-account-issuer=https://kubernetes.default.svc', `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`, `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC', '--allow-privileged=false',
      // A node named by hostname-override has no DNS name: reach kubelets (logs, exec) by their IP.
      '--kubelet-preferred-address-types=InternalIP,Hostname',
      ...(options.aggregation === undefined
        ? []
        : [
            `--requestheader-client-ca-file=${options.aggregation.caFile}`, '--requestheader-allowed-names=front-proxy-client',
            '--requestheader-username-headers=X-Remote-User', '--requestheader-group-headers=X-Remote-Group',
            '--requestheader-extra-headers-prefix=X-Remote-Extra-',
            `--proxy-client-cert-file=${options.aggregation.certFile}`, `--proxy-client-key-file=${options.aggregation.keyFile}`,
            // Extension servers run on the host: dial their endpoints, not a Service IP.
            '--enable-aggregator-routing=true'
          ])
    ])
    await waitReady(`${server}/readyz`, token, 120_000)

    run('kube-controller-manager', join(bin, 'kube-controller-manager'), [
      `--kubeconfig=${kubeconfig}`, '--leader-elect=false', '--bind-address=127.0.0.1', `--secure-port=${cmPort}`,
      `--service-account-private-key-file=${join(dir, 'sa.key')}`, '--use-service-account-credentials=false',
      `--root-ca-file=${join(dir, 'certs', 'apiserver.crt')}`,
      // Fake nodes send no heartbeats: without this the node lifecycle
      // controller would mark them unreachable and their pods not Ready.
      ...(fakeNodes ? ['--controllers=*,-node-lifecycle-controller'] : []),
      // Without metrics the HPA retries; with them, it reacts within seconds.
      '--horizontal-pod-autoscaler-sync-period=5s'
    ])
    run('kube-scheduler', join(bin, 'kube-scheduler'), [
      `--kubeconfig=${kubeconfig}`, '--leader-elect=false', '--bind-address=127.0.0.1', `--secure-port=${schedPort}`
    ])
    if (fakeNodes) {
      run('kwok', join(bin, 'kwok'), [
        `--config=${join(__dirname, 'kwok-stages.yaml')}`, `--kubeconfig=${kubeconfig}`, '--manage-nodes-with-label-selector=type=kwok', `--server-address=127.0.0.1:${kwokPort}`,
        '--node-ip=10.0.0.1', '--cidr=10.0.0.0/24'
      ])
    }
    return { kubeconfig, server, token, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

async function waitReady (url: string, token: string, ms: number): Promise<void> {
  const dispatcher = new Agent({ connect: { rejectUnauthorized: false } })
  const until = Date.now() + ms
  let last = ''
  try {
    while (Date.now() < until) {
      try {
        const res = await request(url, { headers: { authorization: `Bearer ${token}` }, dispatcher })
        last = `${res.statusCode} ${await res.body.text()}`
        if (res.statusCode === 200) return
      } catch (err) {
        last = String(err)
      }
      await new Promise(resolve => setTimeout(resolve, 250))
    }
    throw new Error(`kube-apiserver not ready after ${ms} ms: ${last.slice(0, 300)}`)
  } finally {
    await dispatcher.close()
  }
}
