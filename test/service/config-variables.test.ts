import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseConfig, type RouterConfig } from '../../service/config'
import { ConfigError } from '../../service/errors'

/**
 * Every variable in the README's "Environment variables" table, checked
 * against parseConfig: its default is the one documented, setting it changes
 * its own field and no other, and its range is enforced at both ends. The
 * README is the contract operators read, so the defaults here come from it,
 * not from the code under test.
 */
const README = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8')
const BASE = { NUM_GATEWAY_PODS: '3' } as const

/** variable → the field it sets. The one hand-written piece: names differ in places (ROUTING_STRATEGY → strategy). */
const FIELDS: Record<string, keyof RouterConfig> = {
  NUM_GATEWAY_PODS: 'numGatewayPods',
  GATEWAY_URL_TEMPLATE: 'gatewayUrlTemplate',
  GATEWAY_URLS: 'gatewayUrls',
  ROUTING_STRATEGY: 'strategy',
  UNROUTED: 'unrouted',
  MAX_BODY_BYTES: 'maxBodyBytes',
  REQUEST_DEADLINE_MS: 'requestDeadlineMs',
  UPSTREAM_CONNECT_TIMEOUT_MS: 'upstreamConnectTimeoutMs',
  UPSTREAM_BODY_TIMEOUT_MS: 'upstreamBodyTimeoutMs',
  UPSTREAM_CONNECTIONS: 'upstreamConnections',
  UPSTREAM_KEEPALIVE_TIMEOUT_MS: 'upstreamKeepAliveTimeoutMs',
  PORT: 'port',
  ADMIN_PORT: 'adminPort',
  HOST: 'host',
  CLIENT_HEADERS_TIMEOUT_MS: 'clientHeadersTimeoutMs',
  CLIENT_REQUEST_TIMEOUT_MS: 'clientRequestTimeoutMs',
  CLIENT_KEEPALIVE_TIMEOUT_MS: 'clientKeepAliveTimeoutMs',
  CLIENT_MAX_REQUESTS_PER_CONNECTION: 'clientMaxRequestsPerConnection',
  CLIENT_LINGER_MS: 'clientLingerMs',
  CLIENT_LINGER_BYTES: 'clientLingerBytes',
  TRUST_PROXY_HEADERS: 'trustProxyHeaders',
  FAILOVER: 'failover',
  RETRY_MAX_ATTEMPTS: 'retryMaxAttempts',
  RETRY_BASE_MS: 'retryBaseMs',
  RETRY_MAX_BACKOFF_MS: 'retryMaxBackoffMs',
  RETRY_BUDGET_PERCENT: 'retryBudgetPercent',
  RETRY_BUDGET_MIN: 'retryBudgetMin',
  OWNERSHIP_RETRY_MS: 'ownershipRetryMs',
  RETRY_BUFFER_BYTES: 'retryBufferBytes',
  EJECT_CONSECUTIVE_FAILURES: 'ejectConsecutiveFailures',
  EJECT_BASE_MS: 'ejectBaseMs',
  EJECT_MAX_MS: 'ejectMaxMs',
  HEALTH_CHECK_PATH: 'healthCheckPath',
  HEALTH_CHECK_INTERVAL_MS: 'healthCheckIntervalMs',
  HEALTH_CHECK_TIMEOUT_MS: 'healthCheckTimeoutMs',
  DRAIN_DELAY_MS: 'drainDelayMs',
  SHUTDOWN_TIMEOUT_MS: 'shutdownTimeoutMs',
  WARM_UP_REQUESTS: 'warmUpRequests',
  LOG_LEVEL: 'logLevel'
}

/** The README's rows, `A` / `B` rows split in two: variable → documented default (backticks removed). */
function documentedDefaults (): Map<string, string> {
  const section = README.slice(README.indexOf('### Environment variables'))
  const rows = section.slice(0, section.indexOf('\n\n', section.indexOf('|'))).split('\n').filter(l => l.startsWith('| `'))
  const out = new Map<string, string>()
  for (const row of rows) {
    const [names, defaults] = row.split('|').slice(1, 3).map(c => c.trim())
    const vars = (names ?? '').split(' / ').map(v => v.replaceAll('`', ''))
    const values = (defaults ?? '').split(' / ').map(v => v.replaceAll('`', ''))
    vars.forEach((v, i) => out.set(v, values[i] ?? values[0] ?? ''))
  }
  return out
}

const DOCUMENTED = documentedDefaults()

function rejection (env: Record<string, string>): ConfigError {
  try {
    parseConfig(env)
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return err as ConfigError
  }
  throw new Error(`accepted ${JSON.stringify(env)}`)
}

/** What the error for a value of the wrong kind says the variable accepts. */
function accepted (variable: string): string {
  return rejection({ ...BASE, [variable]: 'not-a-value' }).message
}

/** Values a variable needs beside it to be valid at the edge of its range. */
const COMPANIONS: Record<string, Record<string, string>> = {
  RETRY_MAX_BACKOFF_MS: { RETRY_BASE_MS: '1' },
  EJECT_MAX_MS: { EJECT_BASE_MS: '1' },
  PORT: { ADMIN_PORT: '0' },
  ADMIN_PORT: { PORT: '0' }
}

/** Every variable but these takes an integer. Listed here, not found by trying the code, so a variable the code stops reading still gets its test, and fails it. */
const NOT_INTEGERS = ['GATEWAY_URL_TEMPLATE', 'GATEWAY_URLS', 'ROUTING_STRATEGY', 'UNROUTED', 'HOST', 'TRUST_PROXY_HEADERS', 'FAILOVER', 'HEALTH_CHECK_PATH', 'LOG_LEVEL']
const INTEGERS = Object.keys(FIELDS).filter(v => !NOT_INTEGERS.includes(v))

describe('the environment variables, against the README table', () => {
  it('documents exactly the variables the router reads', () => {
    expect([...DOCUMENTED.keys()].sort()).toEqual(Object.keys(FIELDS).sort())
  })

  it.each(Object.keys(FIELDS).filter(v => !['required', 'unset', 'unset (off)'].includes(DOCUMENTED.get(v) ?? '')))('%s defaults to what the README says', variable => {
    const field = FIELDS[variable]!
    const doc = DOCUMENTED.get(variable) as string
    expect(String(parseConfig(BASE)[field])).toBe(doc)
  })

  it('the default template names the pods as the README says, and an empty HOST or list means the default', () => {
    const c = parseConfig(BASE)
    expect(c.gatewayUrls).toEqual([0, 1, 2].map(n => DOCUMENTED.get('GATEWAY_URL_TEMPLATE')!.replace('{ordinal}', String(n))))
    expect(parseConfig({ ...BASE, HOST: '' }).host).toBe(DOCUMENTED.get('HOST'))
    expect(parseConfig({ ...BASE, HOST: '127.0.0.1' }).host).toBe('127.0.0.1')
    expect(parseConfig({ ...BASE, GATEWAY_URLS: '  ' }).gatewayUrls).toEqual(c.gatewayUrls)
    expect(parseConfig({ ...BASE, HEALTH_CHECK_PATH: '' }).healthCheckPath).toBeUndefined()
  })

  it.each(INTEGERS)('%s takes the ends of its range, refuses one past each, and sets its own field only', variable => {
    const field = FIELDS[variable]!
    const range = /an integer (?:≥ (\d+)|from (\d+) to (\d+))/.exec(accepted(variable))
    expect(range).not.toBeNull()
    const min = Number(range![1] ?? range![2])
    const max = range![3] === undefined ? undefined : Number(range![3])
    const base = { ...BASE, ...COMPANIONS[variable] }
    const defaults = parseConfig(base)

    const atMin = parseConfig({ ...base, [variable]: String(min) })
    expect(atMin[field]).toBe(min)
    // No other field moved (the pod count also sizes the URL list).
    for (const [other, f] of Object.entries(FIELDS)) {
      if (other !== variable && !(variable === 'NUM_GATEWAY_PODS' && other === 'GATEWAY_URLS')) expect(atMin[f]).toEqual(defaults[f])
    }
    // A value with room around it, so the field cannot be stuck at an end.
    const inside = max === undefined ? min + 7 : Math.min(max, min + 1)
    expect(parseConfig({ ...base, [variable]: String(inside) })[field]).toBe(inside)
    if (min > 0) expect(rejection({ ...base, [variable]: String(min - 1) }).variable).toBe(variable)
    if (max !== undefined) {
      expect(parseConfig({ ...base, [variable]: String(max) })[field]).toBe(max)
      const past = rejection({ ...base, [variable]: String(max + 1) })
      expect(past.variable).toBe(variable)
      expect(past.message).toBe(`${variable} must be an integer from ${min} to ${max} (got "${max + 1}")`)
    }
    // Blank is unset: the default (or, for the one required variable, a clear refusal).
    if (variable === 'NUM_GATEWAY_PODS') expect(rejection({ [variable]: '  ' }).message).toBe('NUM_GATEWAY_PODS is required: an integer from 1 to 100000')
    else expect(parseConfig({ ...base, [variable]: '  ' })[field]).toBe(defaults[field])
  })

  it.each([
    ['ROUTING_STRATEGY', ['md5-mod', 'jump', 'discord-shard']],
    ['UNROUTED', ['reject', 'pod0']],
    ['FAILOVER', ['none', 'next']],
    ['LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']]
  ])('%s takes each word the README names, and an empty value is the default', (variable, words) => {
    const field = FIELDS[variable]!
    expect(accepted(variable)).toBe(`${variable} must be one of ${words.join(', ')} (got "not-a-value")`)
    for (const word of words) expect(parseConfig({ ...BASE, [variable]: word })[field]).toBe(word)
    expect(parseConfig({ ...BASE, [variable]: '' })[field]).toBe(DOCUMENTED.get(variable))
  })

  it.each([
    ['true', true], ['1', true], ['false', false], ['0', false], ['', false]
  ])('TRUST_PROXY_HEADERS=%j is %s', (raw, value) => {
    expect(parseConfig({ ...BASE, TRUST_PROXY_HEADERS: raw }).trustProxyHeaders).toBe(value)
  })

  it.each(['/healthz', '/', '/a/b?c=1'])('HEALTH_CHECK_PATH takes %j', path => {
    expect(parseConfig({ ...BASE, HEALTH_CHECK_PATH: path }).healthCheckPath).toBe(path)
  })

  it.each(['healthz', 'a/healthz', '/health z', '/healthz\n'])('HEALTH_CHECK_PATH refuses %j', path => {
    const err = rejection({ ...BASE, HEALTH_CHECK_PATH: path })
    expect(err.message).toBe(`HEALTH_CHECK_PATH must be an absolute path such as /healthz (got ${JSON.stringify(path)})`)
  })
})

describe('cross-checks between variables', () => {
  it.each([
    ['RETRY_BASE_MS', 'RETRY_MAX_BACKOFF_MS'],
    ['EJECT_BASE_MS', 'EJECT_MAX_MS']
  ])('%s may equal %s but not exceed it', (base, cap) => {
    expect(parseConfig({ ...BASE, [base]: '300', [cap]: '300' })).toMatchObject({ [FIELDS[base]!]: 300, [FIELDS[cap]!]: 300 })
    const err = rejection({ ...BASE, [base]: '301', [cap]: '300' })
    expect(err.variable).toBe(base)
    expect(err.message).toBe(`${base} must not exceed ${cap} (300) (got 301)`)
  })
})

describe('gateway addresses', () => {
  it('trims each entry of GATEWAY_URLS, and names an entry as trimmed', () => {
    expect(parseConfig({ NUM_GATEWAY_PODS: '2', GATEWAY_URLS: ' http://a:1 ,  http://b:2 ' }).gatewayUrls).toEqual(['http://a:1', 'http://b:2'])
    expect(rejection({ NUM_GATEWAY_PODS: '2', GATEWAY_URLS: 'http://a:1/x , http://b:2' }).message).toBe('GATEWAY_URLS must hold origins only, with no path, query or credentials (got "http://a:1/x")')
  })

  it.each([
    ['http://a:1/x', 'origins only, with no path, query or credentials'],
    ['http://a:1/?q=1', 'origins only, with no path, query or credentials'],
    ['http://a:1/#top', 'origins only, with no path, query or credentials'],
    ['http://user@a:1', 'origins only, with no path, query or credentials'],
    ['ftp://a:1', 'http:// or https:// base URLs'],
    ['http://', 'http:// or https:// base URLs']
  ])('GATEWAY_URLS refuses %j', (url, what) => {
    const err = rejection({ NUM_GATEWAY_PODS: '1', GATEWAY_URLS: url })
    expect(err.variable).toBe('GATEWAY_URLS')
    expect(err.message).toBe(`GATEWAY_URLS must hold ${what} (got ${JSON.stringify(url)})`)
  })

  it('a template that expands to something other than an origin is refused under its own name', () => {
    const err = rejection({ NUM_GATEWAY_PODS: '1', GATEWAY_URL_TEMPLATE: 'ftp://gateway-{ordinal}:1' })
    expect(err.message).toBe('GATEWAY_URL_TEMPLATE must hold http:// or https:// base URLs (got "ftp://gateway-0:1")')
  })

  it('https origins are kept', () => {
    expect(parseConfig({ NUM_GATEWAY_PODS: '1', GATEWAY_URLS: 'https://a:443' }).gatewayUrls).toEqual(['https://a'])
  })
})
