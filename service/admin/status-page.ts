import { DEFAULT_CAPACITY, DEFAULT_SAMPLE_EVERY } from '../telemetry/hot-guilds'
import { HOT_GUILDS_SHOWN, type PodRow, type RouterStatus } from './router-status'
import type { GatewayTopology } from './gateway-topologies'

/**
 * The admin port's status page: one server-rendered HTML document with its
 * style and script inline (no build step, no external assets). This file is
 * the only renderer of the pod table and the lookup: the script refreshes by
 * fetching the parts marked `data-live` (`?live=1`, built by the same
 * functions) and swapping them in, so the browser never formats a row. When
 * that fetch fails the table is greyed out and marked stale. Every value
 * that could come from a request is escaped here; the one text the script
 * builds (the rescale preview) is set with textContent.
 */
export const REFRESH_MS = 2_000

export interface Lookup {
  readonly guildId: string
  readonly pod?: number
  readonly url?: string
  /** The owner's health as this router sees it. */
  readonly state?: PodRow['state']
  readonly ejectedUntil?: string | null
  readonly error?: string
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

export function escapeHtml (value: unknown): string {
  return String(value).replace(/[&<>"']/g, c => ESCAPES[c] as string)
}

const clock = (iso: string | null): string => iso?.slice(11, 19) ?? '?'

export function stateText (row: Pick<PodRow, 'state' | 'ejectedUntil' | 'ejectedSince'>): string {
  if (row.state === 'ejected') return `ejected until ${clock(row.ejectedUntil)} UTC (since ${clock(row.ejectedSince)})`
  if (row.state === 'half-open') return `half-open: the next request probes it (ejected since ${clock(row.ejectedSince)})`
  return row.state
}

function podRow (row: PodRow): string {
  return `<tr data-pod="${row.pod}" class="${escapeHtml(row.state)}">` +
    `<td>${row.pod}</td><td class="url">${escapeHtml(row.url)}</td>` +
    `<td class="state">${escapeHtml(stateText(row))}</td>` +
    `<td class="failures">${row.consecutiveFailures}</td>` +
    `<td class="requests">${row.requests}</td>` +
    `<td class="errors">${(100 * row.errorRate).toFixed(1)}%</td>` +
    `<td class="p99">${row.p99Ms === null ? '–' : `≤ ${row.p99Ms} ms`}</td>` +
    `<td class="topology">${row.topology === null ? '–' : `${escapeHtml(row.topology.version)} (${row.topology.count} pods${row.topology.settled ? '' : ', settling'})`}</td>` +
    `<td class="handoff">${row.topology === null ? '–' : handoffText(row.topology)}</td></tr>`
}

/** A pod's guilds and its handoff in both directions, e.g. "412 guilds · sending 30 (4.1 MiB) · receiving 12". */
export function handoffText (t: GatewayTopology): string {
  const parts = [`${t.guilds} guilds`]
  if (t.sending.guilds > 0) parts.push(`sending ${t.sending.guilds} (${(t.sending.bytes / 1024 / 1024).toFixed(1)} MiB)`)
  if (t.receiving.guilds > 0) parts.push(`receiving ${t.receiving.guilds}`)
  return parts.join(' · ')
}

/** One row per hot guild: the pod, the guild, its requests and share of the pod's minute, and how far off the count may be. */
function hotRows (row: PodRow): string {
  const { top, requests, bound } = row.hotGuilds
  return top.map((g, i) => `<tr data-pod="${row.pod}" data-guild="${escapeHtml(g.guildId)}">` +
    `<td>${i === 0 ? row.pod : ''}</td><td class="guild">${escapeHtml(g.guildId)}</td>` +
    `<td class="requests">${g.requests}${g.error > 0 ? ` <span class="meta">(±${g.error})</span>` : ''}</td>` +
    `<td class="share">${(100 * g.share).toFixed(1)}%</td>` +
    `<td class="meta">${i === 0 ? `of ${requests}${bound > 0 ? `; unlisted guilds ≤ ${bound} each` : ''}` : ''}</td></tr>`).join('')
}

export function lookupText (lookup: Lookup | undefined): string {
  if (lookup === undefined) return ''
  if (lookup.error !== undefined) return `${lookup.guildId}: ${lookup.error}`
  const owner = `guild ${lookup.guildId} → pod ${lookup.pod} (${lookup.url})`
  if (lookup.state === 'ejected') return `${owner}: owner ejected until ${clock(lookup.ejectedUntil ?? null)} UTC, its requests get 503`
  if (lookup.state === 'half-open') return `${owner}: owner half-open, the next request probes it`
  return owner
}

/** The parts of the page a refresh replaces, each an element with an id and `data-live`. */
function liveParts (status: RouterStatus): Record<'draining' | 'updated' | 'pods' | 'hot' | 'budget', string> {
  const b = status.retryBudget
  return {
    draining: `<span id="draining" data-live class="${status.draining ? 'draining' : ''}">${status.draining ? 'draining' : 'serving'}</span>`,
    updated: `<span id="updated" data-live>${escapeHtml(status.generatedAt.slice(11, 19))} UTC</span>`,
    pods: `<tbody id="pods" data-live>${status.pods.map(podRow).join('')}</tbody>`,
    hot: `<tbody id="hot" data-live>${status.pods.map(hotRows).join('') || '<tr><td colspan="5" class="meta">no requests in the last minute</td></tr>'}</tbody>`,
    budget: `<span id="budget" data-live>${b.retriesInFlight} of ${b.limit} retries in flight (${b.requestsInFlight} requests), exhausted ${b.exhausted} times</span>`
  }
}

/**
 * What the page's refresh fetches (`?live=1`): the live parts alone, from the
 * same functions as the page, in a template so the table body parses as it
 * would inside its table.
 */
export function renderLiveParts (status: RouterStatus): string {
  const live = liveParts(status)
  return `<!doctype html><template id="live-parts">${live.draining}${live.updated}<table>${live.pods}</table><table>${live.hot}</table>${live.budget}</template>\n`
}

export function renderStatusPage (status: RouterStatus, opts: { nonce: string, lookup?: Lookup }): string {
  const lookup = opts.lookup
  const live = liveParts(status)
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
#live.stale{opacity:.45;filter:grayscale(1)}
#stale{color:#cf222e;font-weight:600}
</style></head>
<body>
<h1>guild-router</h1>
<p class="meta">strategy <b id="strategy">${escapeHtml(status.strategy)}</b> over <b id="num-pods">${status.numPods}</b> gateway pods
(topology <b id="topology-version">${escapeHtml(status.topologyVersion)}</b>) ·
failover <b>${escapeHtml(status.failover)}</b> · ${live.draining} ·
updated ${live.updated}</p>
<p id="stale" role="status" hidden></p>

<div id="live">
<h2>Gateway pods (last minute)</h2>
<table><thead><tr><th>pod</th><th>URL</th><th>state</th><th>consecutive failures</th><th>requests</th><th>errors</th><th>p99</th><th>topology it holds</th><th>data and handoff</th></tr></thead>
${live.pods}</table>
<p class="meta">retry budget: ${live.budget}</p>

<h2>Hot guilds (last minute, through this router)</h2>
<p class="meta">The ${HOT_GUILDS_SHOWN} most requested guilds of each pod, estimated from a random 1 in ${DEFAULT_SAMPLE_EVERY} of its requests kept in a Space-Saving summary of ${DEFAULT_CAPACITY} counters per pod and 10 s. A count may be its ± too high, and sampling adds about √(${DEFAULT_SAMPLE_EVERY}·count) either way; a guild not listed had no more than the last one listed or the pod's "unlisted" figure (at most 1/${DEFAULT_CAPACITY} of the pod's requests). Each pod's total is exact. Every router keeps its own; <code>sum by (gateway, guild) (guild_router_hot_guild_requests)</code> adds them up in Prometheus.</p>
<table><thead><tr><th>pod</th><th>guild</th><th>requests</th><th>share of the pod</th><th></th></tr></thead>
${live.hot}</table>
</div>

<h2>Which pod owns a guild?</h2>
<form id="lookup" method="get" action="">
<input name="guild" id="guild" placeholder="guild id, e.g. 81384788765712384" size="28" value="${escapeHtml(lookup?.guildId ?? '')}" required>
<button type="submit">Look up</button></form>
<output id="lookup-result"${lookup?.pod === undefined ? '' : ` data-pod="${lookup.pod}"`}>${escapeHtml(lookupText(lookup))}</output>

<h2>Rescale preview</h2>
<form id="plan"><label>from <input id="plan-from" type="number" min="1" max="1000" value="${status.numPods}"></label>
<label>to <input id="plan-to" type="number" min="1" max="1000" value="${status.numPods + 1}"></label>
<button type="submit">Preview</button></form>
<output id="plan-result"></output>

<script nonce="${opts.nonce}">
(() => {
  const $ = id => document.getElementById(id)
  // The server renders every live part; a refresh fetches them again and
  // swaps them in. DOMParser runs no script, so nothing fetched can execute.
  async function refresh () {
    try {
      const res = await fetch('./?live=1', { cache: 'no-store' })
      if (!res.ok) throw new Error('HTTP ' + res.status)
      const parts = new DOMParser().parseFromString(await res.text(), 'text/html').getElementById('live-parts').content
      for (const el of document.querySelectorAll('[data-live]')) {
        const fresh = parts.getElementById(el.id)
        if (fresh !== null) el.replaceWith(document.importNode(fresh, true))
      }
      $('live').classList.remove('stale')
      $('stale').hidden = true
    } catch (err) {
      // Keep the last table for reference, but never let it pass for current.
      if (!$('live').classList.contains('stale')) {
        $('stale').textContent = 'The router is not answering (' + err.message + '): the table below is from ' + $('updated').textContent + ' and may be out of date.'
      }
      $('live').classList.add('stale')
      $('stale').hidden = false
    }
  }
  setInterval(refresh, ${REFRESH_MS})
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
