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
