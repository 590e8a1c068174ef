import type { Dispatcher } from 'undici'

export interface Outcome {
  readonly id: string
  readonly method: string
  readonly guildId: string
  readonly status?: number
  readonly json?: Record<string, unknown>
  readonly pod?: string
  /** The client-side error code when there was no response. */
  readonly error?: string
  readonly ms: number
}

export interface LoadPlan {
  readonly workers: number
  /** The run's bound: a count, so a slow machine does the same work, only later. */
  readonly requests: number
  /** Called as request `i` is about to be sent: faults are scheduled by count, not by clock. */
  onSend? (i: number): void
  /** Optional: no new request once it returns true (an event the test waits for, never a clock). */
  readonly stop?: () => boolean
  next (i: number): { method: 'GET' | 'POST' | 'PUT', path: string, guildId: string, body?: string }
}

/**
 * A bounded closed-loop load: `workers` loops, each sending one request at a
 * time, until `requests` were sent. Every request gets a
 * unique x-request-id so gateways' logs can be matched against outcomes.
 */
export async function runLoad (target: Dispatcher, plan: LoadPlan, tag = 'load'): Promise<Outcome[]> {
  const outcomes: Outcome[] = []
  let sent = 0
  await Promise.all(Array.from({ length: plan.workers }, async () => {
    while (sent < plan.requests && plan.stop?.() !== true) {
      const i = sent++
      plan.onSend?.(i)
      const spec = plan.next(i)
      const id = `${tag}-${spec.method}-${i}`
      const t0 = performance.now()
      try {
        const res = await target.request({
          path: spec.path,
          method: spec.method,
          headers: { 'x-guild-id': spec.guildId, 'x-request-id': id, 'content-type': 'application/json' },
          body: spec.body
        })
        const text = await res.body.text()
        let json: Record<string, unknown> | undefined
        try { json = JSON.parse(text) as Record<string, unknown> } catch { /* not JSON */ }
        outcomes.push({ id, method: spec.method, guildId: spec.guildId, status: res.statusCode, json, pod: res.headers['x-gateway-pod'] as string | undefined, ms: performance.now() - t0 })
      } catch (err) {
        const e = err as { code?: string, cause?: { code?: string } }
        outcomes.push({ id, method: spec.method, guildId: spec.guildId, error: e.code ?? e.cause?.code ?? String(err), ms: performance.now() - t0 })
      }
    }
  }))
  return outcomes
}
