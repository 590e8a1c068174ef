import { describe, expect, it } from 'vitest'
import { CLIENT_CLOSED, createMetrics, RESPONSE_CUT } from '../../../service/telemetry/metrics'

describe('guild_router_requests_total status classes', () => {
  it.each([
    [200, '2xx'], [204, '2xx'], [302, '3xx'], [404, '4xx'], [503, '5xx'],
    [CLIENT_CLOSED, 'client_closed'], [RESPONSE_CUT, 'cut']
  ])('status %i → %s', async (status, statusClass) => {
    const metrics = createMetrics(1, { defaultMetrics: false })
    metrics.observe(0, status, 0.001)
    const text = await metrics.registry.metrics()
    expect(text).toContain(`guild_router_requests_total{gateway="0",status_class="${statusClass}"} 1`)
    expect(text).not.toMatch(/status_class="1xx"\} [1-9]/)
  })
})

describe('guild_router_request_duration_seconds', () => {
  it('is a cumulative histogram per pod, with sum and count, and nothing for a pod with no requests', async () => {
    const metrics = createMetrics(3, { defaultMetrics: false })
    metrics.observe(1, 200, 0.0004)
    metrics.observe(1, 200, 0.003)
    metrics.observe(1, 503, 0.003)
    metrics.observe(1, 200, 9)
    metrics.observe(-1, 400, 0.0001)
    const text = await metrics.registry.metrics()
    const line = (labels: string): string | undefined =>
      text.split('\n').find(l => l.startsWith(`guild_router_request_duration_seconds${labels} `))
    expect(line('_bucket{gateway="1",le="0.0005"}')).toMatch(/ 1$/)
    expect(line('_bucket{gateway="1",le="0.0025"}')).toMatch(/ 1$/)
    expect(line('_bucket{gateway="1",le="0.005"}')).toMatch(/ 3$/)
    expect(line('_bucket{gateway="1",le="5"}')).toMatch(/ 3$/)
    expect(line('_bucket{gateway="1",le="+Inf"}')).toMatch(/ 4$/)
    expect(Number(line('_sum{gateway="1"}')?.split(' ')[1])).toBeCloseTo(9.0064, 10)
    expect(line('_count{gateway="1"}')).toMatch(/ 4$/)
    expect(line('_count{gateway="none"}')).toMatch(/ 1$/)
    const unused = text.split('\n').filter(l => /^guild_router_request(s_total|_duration_seconds_\w+)\{gateway="[02]"/.test(l))
    expect(unused).toEqual([])
    expect(text).toContain('guild_router_requests_total{gateway="1",status_class="5xx"} 1')
    expect(text).toContain('guild_router_requests_total{gateway="1",status_class="2xx"} 3')
  })

  it('reads the same through the registry\'s JSON export', async () => {
    const metrics = createMetrics(1, { defaultMetrics: false })
    metrics.observe(0, 200, 0.002)
    const json = await metrics.registry.getMetricsAsJSON()
    const histogram = json.find(m => m.name === 'guild_router_request_duration_seconds')
    expect(histogram?.type).toBe('histogram')
    expect(histogram?.values).toContainEqual(expect.objectContaining({ metricName: 'guild_router_request_duration_seconds_count', value: 1 }))
  })
})
