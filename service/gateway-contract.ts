/**
 * The DNS contract between the router and the gateway StatefulSet: pod n of
 * StatefulSet `gateway` governed by headless Service `gateway-internal` is
 * reachable as `gateway-<n>.gateway-internal`. The Pulumi program creates
 * objects with exactly these names and the router's default template dials
 * them, so both halves read the names from here.
 */
export const GATEWAY_STATEFULSET_NAME = 'gateway'
export const GATEWAY_SERVICE_NAME = 'gateway-internal'
export const GATEWAY_PORT = 3000

/** `{ordinal}` marks where the pod's ordinal goes. */
export function gatewayUrlTemplate (parts: { statefulSet: string, service: string, port: number, domain?: string }): string {
  const host = `${parts.statefulSet}-{ordinal}.${parts.service}${parts.domain === undefined ? '' : `.${parts.domain}`}`
  return `http://${host}:${parts.port}`
}

/**
 * On a gateway's 421, which refusal it is (`not_owner` or
 * `ownership_pending`), so a router can act on it from the headers alone: a
 * 421 means the gateway did no work for the request.
 */
export const REFUSAL_HEADER = 'x-gateway-refusal'
/** On a 421 `not_owner`: the ordinal that owns the guild under the gateway's topology. */
export const OWNER_HEADER = 'x-gateway-owner'
/** On every 421: the pod count of the topology the gateway holds, which an old router can learn from. */
export const TOPOLOGY_COUNT_HEADER = 'x-gateway-topology-count'
