import type { PodRow, RouterStatus } from './router-status'

/**
 * The admin port's status page: one server-rendered HTML document with its
 * style and script inline (no build step, no external assets). The script
 * refreshes the pod table from `status` every few seconds and answers the two
 * forms from `route/<id>` and `plan`. Every value that could come from a
 * request is escaped here, or set with textContent in the browser.
 */
export const REFRESH_MS = 2_000

export interface Lookup {
  readonly guildId: string
  readonly pod?: number
  readonly url?: string
  readonly error?: string
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

export function escapeHtml (value: unknown): string {
  return String(value).replace(/[&<>"']/g, c => ESCAPES[c] as string)
}

const clock = (iso: string | null): string => iso?.slice(11, 19) ?? '?'

export function stateText (row: Pick<PodRow, 'state' | 'ejectedUntil' | 'ejectedSince'>): string {
  if (row.state === 'ejected') return `ejected until ${clock(row.ejectedUntil)} UTC (since ${clock(row.ejectedSince)})`
  if (row.state === 'half-open') return `half-open: probing (ejected since ${clock(row.ejectedSince)})`
  return row.state
}

function podRow (row: PodRow): string {
  return `<tr data-pod="${row.pod}" class="${escapeHtml(row.state)}">` +
    `<td>${row.pod}</td><td class="url">${escapeHtml(row.url)}</td>` +
    `<td class="state">${escapeHtml(stateText(row))}</td>` +
    `<td class="failures">${row.consecutiveFailures}</td>` +
    `<td class="requests">${row.requests}</td>` +
    `<td class="errors">${(100 * row.errorRate).toFixed(1)}%</td>` +
    `<td class="p99">${row.p99Ms === null ? '–' : `≤ ${row.p99Ms} ms`}</td></tr>`
}

export function renderStatusPage (status: RouterStatus, opts: { nonce: string, lookup?: Lookup }): string {
  const lookup = opts.lookup
  const lookupText = lookup === undefined
    ? ''
    : lookup.error !== undefined
      ? `${lookup.guildId}: ${lookup.error}`
      : `guild ${lookup.guildId} → pod ${lookup.pod} (${lookup.url})`
  const budget = status.retryBudget
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>guild-router status</title>
<style nonce="${opts.nonce}">
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#1d1d1f;background:#fafafa}
h1{font-size:1.3rem;margin:0 0 .25rem}h2{font-size:1rem;margin:1.5rem 0 .5rem}
.meta{color:#555}table{border-collapse:collapse;background:#fff}
th,td{padding:.35rem .7rem;border-bottom:1px solid #e3e3e3;text-align:left}
td.url{font-family:ui-monospace,monospace;font-size:12px}
tr.up td.state{color:#1a7f37}tr.ejected td.state{color:#cf222e;font-weight:600}tr.half-open td.state{color:#9a6700;font-weight:600}
form{display:flex;gap:.5rem;align-items:center}input{padding:.3rem;font:inherit}
output{display:block;margin-top:.4rem;font-family:ui-monospace,monospace}
.draining{color:#cf222e;font-weight:600}
</style></head>
<body>
<h1>guild-router</h1>
<p class="meta">strategy <b id="strategy">${escapeHtml(status.strategy)}</b> over <b id="num-pods">${status.numPods}</b> gateway pods ·
failover <b>${escapeHtml(status.failover)}</b> · <span id="draining" class="${status.draining ? 'draining' : ''}">${status.draining ? 'draining' : 'serving'}</span> ·
updated <span id="updated">${escapeHtml(status.generatedAt.slice(11, 19))}</span> UTC</p>

<h2>Gateway pods (last minute)</h2>
<table><thead><tr><th>pod</th><th>URL</th><th>state</th><th>consecutive failures</th><th>requests</th><th>errors</th><th>p99</th></tr></thead>
<tbody id="pods">${status.pods.map(podRow).join('')}</tbody></table>
<p class="meta">retry budget: <span id="budget">${budget.retriesInFlight} of ${budget.limit} retries in flight (${budget.requestsInFlight} requests), exhausted ${budget.exhausted} times</span></p>

<h2>Which pod owns a guild?</h2>
<form id="lookup" method="get" action="">
<input name="guild" id="guild" placeholder="guild id, e.g. 81384788765712384" size="28" value="${escapeHtml(lookup?.guildId ?? '')}" required>
<button type="submit">Look up</button></form>
<output id="lookup-result">${escapeHtml(lookupText)}</output>

<h2>Rescale preview</h2>
<form id="plan"><label>from <input id="plan-from" type="number" min="1" max="1000" value="${status.numPods}"></label>
<label>to <input id="plan-to" type="number" min="1" max="1000" value="${status.numPods + 1}"></label>
<button type="submit">Preview</button></form>
<output id="plan-result"></output>

<script nonce="${opts.nonce}">
(() => {
  const $ = id => document.getElementById(id)
  const clock = iso => (iso || '?').slice(11, 19)
  const stateText = p => p.state === 'ejected' ? 'ejected until ' + clock(p.ejectedUntil) + ' UTC (since ' + clock(p.ejectedSince) + ')'
    : p.state === 'half-open' ? 'half-open: probing (ejected since ' + clock(p.ejectedSince) + ')' : p.state
  function cell (text, cls) { const td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; return td }
  async function refresh () {
    try {
      const s = await (await fetch('status', { cache: 'no-store' })).json()
      const rows = s.pods.map(p => {
        const tr = document.createElement('tr')
        tr.dataset.pod = String(p.pod)
        tr.className = p.state
        tr.append(cell(String(p.pod)), cell(p.url, 'url'), cell(stateText(p), 'state'), cell(String(p.consecutiveFailures), 'failures'),
          cell(String(p.requests), 'requests'), cell((100 * p.errorRate).toFixed(1) + '%', 'errors'), cell(p.p99Ms === null ? '–' : '≤ ' + p.p99Ms + ' ms', 'p99'))
        return tr
      })
      $('pods').replaceChildren(...rows)
      const b = s.retryBudget
      $('budget').textContent = b.retriesInFlight + ' of ' + b.limit + ' retries in flight (' + b.requestsInFlight + ' requests), exhausted ' + b.exhausted + ' times'
      $('updated').textContent = s.generatedAt.slice(11, 19)
      $('draining').textContent = s.draining ? 'draining' : 'serving'
      $('draining').className = s.draining ? 'draining' : ''
    } catch (err) {
      $('updated').textContent = 'unreachable (' + err.message + ')'
    }
  }
  setInterval(refresh, ${REFRESH_MS})
  $('lookup').addEventListener('submit', async event => {
    event.preventDefault()
    const id = $('guild').value.trim()
    const out = $('lookup-result')
    const res = await fetch('route/' + encodeURIComponent(id))
    const body = await res.json()
    out.textContent = res.ok ? 'guild ' + body.guildId + ' → pod ' + body.pod + ' (' + body.url + ')' : id + ': ' + body.message
    out.dataset.pod = res.ok ? String(body.pod) : ''
  })
  $('plan').addEventListener('submit', async event => {
    event.preventDefault()
    const res = await fetch('plan?from=' + encodeURIComponent($('plan-from').value) + '&to=' + encodeURIComponent($('plan-to').value))
    const p = await res.json()
    $('plan-result').textContent = res.ok
      ? p.moved + ' of ' + p.total + ' sample guilds move (' + (100 * p.moved / p.total).toFixed(1) + '%, least possible ' +
        (100 * p.minimumFraction).toFixed(1) + '%): ' + p.flows.map(f => f.from + '→' + f.to + ' ' + f.count).join(', ')
      : p.message
  })
})()
</script>
</body></html>
`
}
