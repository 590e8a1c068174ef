import { describe, expect, it } from 'vitest'
import { GATEWAY_PORT, GATEWAY_SERVICE_NAME, GATEWAY_STATEFULSET_NAME, gatewayUrlTemplate, podUrl, serviceDomain } from '../../../service/routing/pod-address'

describe('pod addresses', () => {
  it('name pod n of the StatefulSet through its headless Service, with or without the cluster domain', () => {
    const parts = { statefulSet: GATEWAY_STATEFULSET_NAME, service: GATEWAY_SERVICE_NAME, port: GATEWAY_PORT }
    expect(podUrl(gatewayUrlTemplate(parts), 2)).toBe('http://gateway-2.gateway-internal:3000')
    expect(podUrl(gatewayUrlTemplate({ ...parts, domain: serviceDomain('bots', 'cluster.local') }), 0))
      .toBe('http://gateway-0.gateway-internal.bots.svc.cluster.local:3000')
  })

  it('fill every {ordinal} of a template and touch nothing else', () => {
    expect(podUrl('http://127.0.{ordinal}.1:80{ordinal}', 7)).toBe('http://127.0.7.1:807')
    expect(podUrl('http://fixed:1', 7)).toBe('http://fixed:1')
  })
})
