/**
 * Polls `probe` every 250 ms until it returns a value, for at most `ms`.
 * Errors from the probe count as "not yet"; the last one is in the timeout's
 * message, which names what was awaited.
 */
export async function until<T> (what: string, probe: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms
  let last: unknown
  while (Date.now() < end) {
    try {
      const value = await probe()
      if (value !== undefined) return value
    } catch (err) {
      last = err
    }
    await new Promise(resolve => setTimeout(resolve, 250))
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`)
}
