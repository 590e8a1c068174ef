import { describe, expect, it } from 'vitest'
import { CLIENT_CLOSED, createMetrics, RESPONSE_CUT } from '../../service/metrics'

describe('guild_router_requests_total status classes', () => {
  it.each([
    [200, '2xx'], [204, '2xx'], [302, '3xx'], [404, '4xx'], [503, '5xx'],
    [CLIENT_CLOSED, 'client_closed'], [RESPONSE_CUT, 'cut']
  ])('status %i → %s', async (status, statusClass) => {
    const metrics = createMetrics(1, { defaultMetrics: false })
    metrics.observe(0, status, 0.001)
    const text = await metrics.registry.metrics()
    expect(text).toContain(`guild_router_requests_total{pod="0",status_class="${statusClass}"} 1`)
    expect(text).not.toMatch(/status_class="1xx"\} [1-9]/)
  })
})
