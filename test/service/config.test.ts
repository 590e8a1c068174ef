import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../service/config'
import { ConfigError } from '../../service/errors'
import { SERVICE_DIR } from '../../dev/processes'

describe('parseConfig', () => {
  it('fills defaults and builds URLs from the template', () => {
    const c = parseConfig({ NUM_GATEWAY_PODS: '3' })
    expect(c).toMatchObject({
      numGatewayPods: 3, port: 8080, adminPort: 9090, strategy: 'md5-mod', unrouted: 'reject', maxBodyBytes: 1_048_576,
      requestDeadlineMs: 2_500
    })
    expect(c.gatewayUrls).toEqual([
      'http://gateway-0.gateway-internal:3000', 'http://gateway-1.gateway-internal:3000', 'http://gateway-2.gateway-internal:3000'
    ])
    expect(Object.isFrozen(c)).toBe(true)
  })

  it('takes GATEWAY_URLS over the template', () => {
    const c = parseConfig({ NUM_GATEWAY_PODS: '2', GATEWAY_URLS: 'http://127.0.0.1:1, http://127.0.0.1:2/' })
    expect(c.gatewayUrls).toEqual(['http://127.0.0.1:1', 'http://127.0.0.1:2'])
  })

  it('fills the template namespace-qualified', () => {
    const c = parseConfig({ NUM_GATEWAY_PODS: '1', GATEWAY_URL_TEMPLATE: 'http://gateway-{ordinal}.gateway-internal.bots.svc.cluster.local:3000' })
    expect(c.gatewayUrls).toEqual(['http://gateway-0.gateway-internal.bots.svc.cluster.local:3000'])
  })

  it.each([
    [{}, 'NUM_GATEWAY_PODS', /is required: an integer from 1/],
    [{ NUM_GATEWAY_PODS: '0' }, 'NUM_GATEWAY_PODS', /must be an integer from 1 to 100000 \(got "0"\)/],
    [{ NUM_GATEWAY_PODS: '3.5' }, 'NUM_GATEWAY_PODS', /got "3.5"/],
    [{ NUM_GATEWAY_PODS: 'three' }, 'NUM_GATEWAY_PODS', /got "three"/],
    [{ NUM_GATEWAY_PODS: ' 3' }, 'NUM_GATEWAY_PODS', /must be an integer from 1 to 100000 \(got " 3"\)/],
    [{ NUM_GATEWAY_PODS: '3\n' }, 'NUM_GATEWAY_PODS', /got "3\\n"/],
    [{ NUM_GATEWAY_PODS: '1', PORT: '8000', ADMIN_PORT: '8000' }, 'ADMIN_PORT', /must differ from PORT \(both 8000\)/],
    [{ NUM_GATEWAY_PODS: '1', ADMIN_PORT: '8080' }, 'ADMIN_PORT', /must differ from PORT \(both 8080\)/],
    [{ NUM_GATEWAY_PODS: '2', GATEWAY_URLS: 'http://a:1' }, 'GATEWAY_URLS', /exactly NUM_GATEWAY_PODS \(2\).*got 1/],
    [{ NUM_GATEWAY_PODS: '1', GATEWAY_URLS: 'ftp://a' }, 'GATEWAY_URLS', /http:\/\/ or https:\/\//],
    [{ NUM_GATEWAY_PODS: '1', GATEWAY_URLS: 'http://a:1/prefix' }, 'GATEWAY_URLS', /origins only/],
    [{ NUM_GATEWAY_PODS: '1', GATEWAY_URL_TEMPLATE: 'http://gateway.internal' }, 'GATEWAY_URL_TEMPLATE', /must contain \{ordinal\}/],
    [{ NUM_GATEWAY_PODS: '1', PORT: '70000' }, 'PORT', /from 0 to 65535/],
    [{ NUM_GATEWAY_PODS: '1', ROUTING_STRATEGY: 'ring' }, 'ROUTING_STRATEGY', /one of md5-mod, jump, discord-shard \(got "ring"\)/],
    [{ NUM_GATEWAY_PODS: '1', UNROUTED: 'drop' }, 'UNROUTED', /one of reject, pod0/],
    [{ NUM_GATEWAY_PODS: '1', MAX_BODY_BYTES: '-1' }, 'MAX_BODY_BYTES', /integer ≥ 0/],
    [{ NUM_GATEWAY_PODS: '1', TRUST_PROXY_HEADERS: 'yes' }, 'TRUST_PROXY_HEADERS', /true or false/],
    [{ NUM_GATEWAY_PODS: '1', LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /one of fatal/],
    [{ NUM_GATEWAY_PODS: '1', WARM_UP_REQUESTS: 'lots' }, 'WARM_UP_REQUESTS', /integer from 0 to 1000000 \(got "lots"\)/]
  ])('rejects %j naming %s', (env, variable, message) => {
    let thrown: unknown
    try { parseConfig(env) } catch (err) { thrown = err }
    expect(thrown).toBeInstanceOf(ConfigError)
    expect((thrown as ConfigError).variable).toBe(variable)
    expect((thrown as ConfigError).message.startsWith(variable)).toBe(true)
    expect((thrown as ConfigError).message).toMatch(message)
  })

  it('lets PORT and ADMIN_PORT both be 0: each asks the kernel for its own free port', () => {
    expect(parseConfig({ NUM_GATEWAY_PODS: '1', PORT: '0', ADMIN_PORT: '0' })).toMatchObject({ port: 0, adminPort: 0 })
  })
})

describe('the router process with a bad configuration', () => {
  it.each([
    [{ NUM_GATEWAY_PODS: '1', PORT: '18123', ADMIN_PORT: '18123' }, 'ADMIN_PORT must differ from PORT (both 18123): the admin port is never served on the proxy port'],
    [{ NUM_GATEWAY_PODS: ' 3', PORT: '0', ADMIN_PORT: '0' }, 'NUM_GATEWAY_PODS must be an integer from 1 to 100000 (got " 3")']
  ])('%j: exits 2 with one configuration error line (%s)', async (env, line) => {
    const child = spawn(process.execPath, [join(SERVICE_DIR, 'main.js')], {
      env: { ...process.env, HOST: '127.0.0.1', LOG_LEVEL: 'warn', GATEWAY_URLS: '', ...env }, stdio: ['ignore', 'pipe', 'pipe']
    })
    let stderr = ''
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString() })
    child.stdout.resume()
    const [code] = await once(child, 'exit') as [number | null]
    expect(code).toBe(2)
    expect(stderr).toBe(`guild-router: invalid configuration: ${line}\n`)
  })
})
