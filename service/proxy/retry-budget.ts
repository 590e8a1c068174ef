/**
 * Caps retries in flight at a share of requests in flight (at least a
 * minimum), so a failing pod cannot multiply the load on the others. The same
 * rule as Envoy's retry budget: 20%, at least 3, by default.
 */
export class RetryBudget {
  #requests = 0
  #retries = 0
  #exhausted = 0
  readonly percent: number
  readonly minConcurrency: number

  constructor (percent: number, minConcurrency: number) {
    this.percent = percent
    this.minConcurrency = minConcurrency
  }

  requestStarted (): void { this.#requests++ }
  requestEnded (): void { this.#requests-- }

  /** Takes a retry slot, or returns false when the budget is spent. */
  tryAcquire (): boolean {
    if (this.#retries >= this.limit()) {
      this.#exhausted++
      return false
    }
    this.#retries++
    return true
  }

  release (): void { this.#retries-- }

  limit (): number {
    return Math.max(this.minConcurrency, Math.floor(this.#requests * this.percent / 100))
  }

  snapshot (): { requestsInFlight: number, retriesInFlight: number, limit: number, exhausted: number } {
    return { requestsInFlight: this.#requests, retriesInFlight: this.#retries, limit: this.limit(), exhausted: this.#exhausted }
  }
}
