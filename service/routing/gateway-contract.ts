/**
 * What a gateway's 421 says to a router, in headers a router reads before
 * any body. (How a router names a gateway pod is pod-address.ts.)
 */

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
