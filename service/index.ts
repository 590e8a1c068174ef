/**
 * guild-router as a library: the routing functions, a client that calls a
 * guild's owner pod, and the proxy as Express middleware.
 */
export { parseConfig, DEFAULT_GATEWAY_URL_TEMPLATE, type RouterConfig } from './config'
export * from './errors'
export { createGuildRouter, type GuildRouter, type GatewayResponse, type RouteInit } from './router/guild-router'
export { createMetrics, type RouterMetrics } from './telemetry/metrics'
export { createProxyHandler, type ProxyHandler, type ProxyOptions, type SelectPod } from './proxy/proxy-handler'
export { GatewayPools } from './proxy/gateway-pools'
export { classifyUpstreamError, type Delivery, type UpstreamFailure } from './proxy/upstream-failure'
export { guildIdProblem, isGuildId, parseGuildId, type GuildId } from './routing/guild-id'
export { planRescale, type RescalePlan } from './routing/rescale-plan'
export {
  discordShard, isStrategyName, jump, jumpHash, md5Mod, strategy, STRATEGY_NAMES,
  type RoutingStrategy, type StrategyName
} from './routing/strategies'
export { startRouter, type RunningRouter } from './router/router'
export { startGatewayOwnership, type GatewayOwnership, type GatewayOwnershipOptions, type HandoffProgress, type OwnershipStatus, type Refusal, type TopologySource } from './gateway/gateway-ownership'
export { OwnershipGate, type Decision, type PeerAnswer, type PeerRound } from './gateway/ownership-gate'
export { StorageError, type GuildStorage } from './gateway/guild-storage'
export { SqliteGuildStore } from './gateway/sqlite-guild-store'
export { createPeerServer } from './gateway/peer-server'
export { barrierVerdict, type BarrierVerdict } from './gateway/handoff-barrier'
export { dnsPeers, filePeers, TOPOLOGY_PATH, type PeerDirectory } from './gateway/peers'
export { endpointSlicePeers, watchTopology, type TopologyWatch } from './gateway/kube-sources'
export { inClusterApi, watchObjects, type KubeApi, type KubeWatch } from './gateway/kube-watch'
export { parseTopology, topologyVersion, TopologyError, type Topology } from './gateway/topology'
export { createMetricsServer, gatewayMetrics } from './gateway/gateway-metrics'
