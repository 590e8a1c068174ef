/**
 * How a router names gateway pod n: the DNS contract between the router and
 * the gateway StatefulSet. Pod n of StatefulSet `gateway` governed by the
 * headless Service `gateway-internal` is reachable as
 * `gateway-<n>.gateway-internal[.<namespace>.svc.<cluster domain>]`. The
 * Pulumi program creates objects with exactly these names and the program's
 * outputs, the router's default template and the router's redirects all
 * expand names here, so the two halves cannot drift apart.
 */
export const GATEWAY_STATEFULSET_NAME = 'gateway'
export const GATEWAY_SERVICE_NAME = 'gateway-internal'
export const GATEWAY_PORT = 3000

/** Where a template puts the pod's ordinal. */
export const ORDINAL = '{ordinal}'

/** A URL template with `{ordinal}` where the pod's ordinal goes. */
export function gatewayUrlTemplate (parts: { statefulSet: string, service: string, port: number, domain?: string }): string {
  const host = `${parts.statefulSet}-${ORDINAL}.${parts.service}${parts.domain === undefined ? '' : `.${parts.domain}`}`
  return `http://${host}:${parts.port}`
}

/** The DNS domain of a namespace's Services: `<namespace>.svc.<cluster domain>`. */
export function serviceDomain (namespace: string, clusterDomain: string): string {
  return `${namespace}.svc.${clusterDomain}`
}

/** Pod `ordinal`'s URL under `template`. (split/join rather than replaceAll: the program compiles under the engine's TypeScript settings, not this repository's, and split/join needs no particular library setting; that replaceAll would fail there was not checked.) */
export function podUrl (template: string, ordinal: number): string {
  return template.split(ORDINAL).join(String(ordinal))
}
