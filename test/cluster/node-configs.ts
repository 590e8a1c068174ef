import { join } from 'node:path'

/**
 * The configuration files of the real node's daemons, as text: pure, so
 * startRealNode reads as the order things start in, and each setting's reason
 * sits next to it here.
 */

/** The pods' network: one bridge with NAT to the host, addresses from `podCidr`, and host ports. */
export function cniConflist (o: { network: string, bridge: string, podCidr: string, ipamDir: string }): string {
  return JSON.stringify({
    cniVersion: '1.0.0',
    name: o.network,
    plugins: [
      {
        type: 'bridge', bridge: o.bridge, isGateway: true, ipMasq: true, hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: o.podCidr }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: o.ipamDir }
      },
      { type: 'portmap', capabilities: { portMappings: true } }
    ]
  })
}

/** containerd with its own root, state and socket under `dir`, and the CNI configuration in `cniConfDir`. */
export function containerdConfig (dir: string, cniConfDir: string): string {
  return `version = 2
root = "${join(dir, 'root')}"
state = "${join(dir, 'state')}"
[grpc]
  address = "${join(dir, 'containerd.sock')}"
[ttrpc]
  address = "${join(dir, 'containerd.sock.ttrpc')}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.10"
  # No CAP_SYS_RESOURCE: containers keep the runtime's OOM score or higher.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${cniConfDir}"
`
}

/** CoreDNS on the host address, answering cluster.local from the API server and nothing else. */
export function corefile (o: { hostAddress: string, healthPort: number, readyPort: number, kubeconfig: string }): string {
  return `cluster.local:53 in-addr.arpa:53 {
    bind ${o.hostAddress}
    errors
    health ${o.hostAddress}:${o.healthPort}
    ready ${o.hostAddress}:${o.readyPort}
    kubernetes cluster.local in-addr.arpa {
        kubeconfig ${o.kubeconfig}
        fallthrough in-addr.arpa
    }
    cache 5
    loadbalance
}
.:53 {
    bind ${o.hostAddress}
    errors
}
`
}

/**
 * kubelet: cgroup v1 with cgroupfs, no swap check, no image GC (nothing
 * could pull an image back), low eviction thresholds, no OOM score changes
 * (no CAP_SYS_RESOURCE here).
 */
export function kubeletConfig (o: { hostAddress: string, port: number, resolvConf: string, containerdSocket: string, podLogsDir: string }): string {
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
failSwapOn: false
address: ${o.hostAddress}
port: ${o.port}
readOnlyPort: 0
healthzPort: 0
authentication:
  anonymous: { enabled: true }
  webhook: { enabled: false }
authorization: { mode: AlwaysAllow }
clusterDNS: [${o.hostAddress}]
clusterDomain: cluster.local
resolvConf: ${o.resolvConf}
containerRuntimeEndpoint: unix://${o.containerdSocket}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: { memory.available: 50Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1% }
oomScoreAdj: 0
serializeImagePulls: false
podLogsDir: ${o.podLogsDir}
`
}

/** kube-proxy in iptables mode, leaving OOM scores and conntrack limits alone, its ports on the host address. */
export function kubeProxyConfig (o: { kubeconfig: string, podCidr: string, nodeName: string, hostAddress: string, healthPort: number, metricsPort: number }): string {
  return `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: { kubeconfig: ${o.kubeconfig} }
mode: iptables
clusterCIDR: ${o.podCidr}
hostnameOverride: ${o.nodeName}
oomScoreAdj: 0
conntrack: { maxPerCore: 0 }
iptables: { localhostNodePorts: false }
healthzBindAddress: ${o.hostAddress}:${o.healthPort}
metricsBindAddress: ${o.hostAddress}:${o.metricsPort}
`
}
