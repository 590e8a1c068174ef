import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { describe, expect, it } from 'vitest'
import { parseStackConfig, PROJECT, StackConfigError, type StackConfig } from '../../infra/stack-config'

/**
 * Every key Pulumi.yaml declares, checked against parseStackConfig directly
 * (program.test.ts runs it only through the whole program): each key reaches
 * its own field and no other, integers take both ends of their range and
 * refuse one past each, and every refusal names its key. Pulumi.yaml is the
 * source of the keys, their types and their defaults, as it is for the CLI.
 */
const DECLARED = (parse(readFileSync(join(__dirname, '..', '..', 'Pulumi.yaml'), 'utf8')) as {
  config: Record<string, { type?: string, default?: unknown, value?: unknown }>
}).config
const KEYS = Object.keys(DECLARED).filter(k => !k.includes(':'))

/** What the CLI hands the program for a stack that sets only the required image. */
const DEFAULTS: Record<string, string> = {
  ...Object.fromEntries(KEYS.filter(k => DECLARED[k]?.default !== undefined).map(k => [k, String(DECLARED[k]?.default)])),
  routerImage: 'registry.example/guild-router:1.0.0'
}

const parseWith = (over: Record<string, string>): StackConfig => parseStackConfig(k => ({ ...DEFAULTS, ...over })[k])

/** key → where its value lands. The one hand-written piece. */
const FIELD: Record<string, (c: StackConfig) => unknown> = {
  namespace: c => c.namespace,
  createNamespace: c => c.createNamespace,
  routingStrategy: c => c.routingStrategy,
  imagePullPolicy: c => c.imagePullPolicy,
  clusterDomain: c => c.clusterDomain,
  gatewayReplicas: c => c.gateway.replicas,
  gatewayImage: c => c.gateway.image,
  gatewayPort: c => c.gateway.port,
  gatewayPeerPort: c => c.gateway.peerPort,
  gatewayMetricsPort: c => c.gateway.metricsPort,
  gatewayHandoffTimeoutSeconds: c => c.gateway.handoffTimeoutSeconds,
  gatewayStorageSize: c => c.gateway.storageSize,
  gatewayStorageClass: c => c.gateway.storageClass,
  gatewayHealthPath: c => c.gateway.healthPath,
  gatewayPeerListTtlSeconds: c => c.gateway.peerListTtlSeconds,
  gatewayTopologySource: c => c.gateway.topologySource,
  gatewayCpuRequest: c => c.gateway.resources.cpuRequest,
  gatewayMemoryRequest: c => c.gateway.resources.memoryRequest,
  gatewayMemoryLimit: c => c.gateway.resources.memoryLimit,
  gatewaySpread: c => c.gateway.placement.spread,
  gatewayNodeSelector: c => c.gateway.placement.nodeSelector,
  gatewayTolerations: c => c.gateway.placement.tolerations,
  gatewayPriorityClassName: c => c.gateway.placement.priorityClassName,
  routerImage: c => c.router.image,
  routerMinReplicas: c => c.router.minReplicas,
  routerMaxReplicas: c => c.router.maxReplicas,
  routerCpuTarget: c => c.router.cpuTarget,
  routerScaleDownStabilizationSeconds: c => c.router.scaleDownStabilizationSeconds,
  routerPort: c => c.router.port,
  routerAdminPort: c => c.router.adminPort,
  routerDrainSeconds: c => c.router.drainSeconds,
  routerShutdownTimeoutSeconds: c => c.router.shutdownTimeoutSeconds,
  routerRequestDeadlineMs: c => c.router.requestDeadlineMs,
  routerUnrouted: c => c.router.unrouted,
  routerLogLevel: c => c.router.logLevel,
  routerCpuRequest: c => c.router.resources.cpuRequest,
  routerMemoryRequest: c => c.router.resources.memoryRequest,
  routerMemoryLimit: c => c.router.resources.memoryLimit,
  routerSpread: c => c.router.placement.spread,
  routerNodeSelector: c => c.router.placement.nodeSelector,
  routerTolerations: c => c.router.placement.tolerations,
  grafanaDashboard: c => c.grafanaDashboard.enabled,
  grafanaDashboardNamespace: c => c.grafanaDashboard.namespace,
  podMonitor: c => c.prometheusOperator.podMonitor,
  prometheusRule: c => c.prometheusOperator.prometheusRule,
  prometheusOperatorLabels: c => c.prometheusOperator.labels
}

function refusal (over: Record<string, string | undefined>): StackConfigError {
  try {
    parseStackConfig(k => (k in over ? over[k] : DEFAULTS[k]))
  } catch (err) {
    expect(err).toBeInstanceOf(StackConfigError)
    return err as StackConfigError
  }
  throw new Error(`accepted ${JSON.stringify(over)}`)
}

/** Asserts that only `key`'s field differs between `a` and the defaults. */
function onlyMoved (key: string, a: StackConfig, alsoSet: readonly string[] = []): void {
  const base = parseWith({})
  for (const [other, field] of Object.entries(FIELD)) {
    if (other !== key && !alsoSet.includes(other)) expect([other, field(a)]).toEqual([other, field(base)])
  }
}

/** Keys whose edge values need another key beside them. */
const COMPANIONS: Record<string, Record<string, string>> = {
  routerMinReplicas: { routerMaxReplicas: '1000' },
  routerMaxReplicas: { routerMinReplicas: '1' }
}

const INTEGERS = KEYS.filter(k => DECLARED[k]?.type === 'integer')
const BOOLEANS = KEYS.filter(k => DECLARED[k]?.type === 'boolean')

describe('the stack config, key by key against Pulumi.yaml', () => {
  it('reads exactly the keys Pulumi.yaml declares, and the defaults parse', () => {
    expect(Object.keys(FIELD).sort()).toEqual([...KEYS].sort())
    expect(() => parseWith({})).not.toThrow()
  })

  it.each(KEYS.filter(k => typeof DECLARED[k]?.default === 'number' || typeof DECLARED[k]?.default === 'boolean' || (typeof DECLARED[k]?.default === 'string' && DECLARED[k]?.default !== '')))('%s defaults to its Pulumi.yaml value', key => {
    expect(FIELD[key]!(parseWith({}))).toEqual(DECLARED[key]?.default)
  })

  it.each(INTEGERS)('%s takes both ends of its range, refuses one past each, and sets its own field only', key => {
    const message = refusal({ [key]: 'many' }).message
    expect(message).toMatch(new RegExp(`^${PROJECT}:${key} must be an integer from -?\\d+ to \\d+ \\(got "many"\\)$`))
    const [, min, max] = /from (-?\d+) to (\d+)/.exec(message)!.map(Number) as [number, number, number]
    const with_ = (v: number): Record<string, string> => ({ ...COMPANIONS[key], [key]: String(v) })
    for (const v of [min, max]) {
      const c = parseWith(with_(v))
      expect(FIELD[key]!(c)).toBe(v)
      onlyMoved(key, c, Object.keys(COMPANIONS[key] ?? {}))
    }
    for (const v of [min - 1, max + 1]) {
      const err = refusal({ ...DEFAULTS, ...with_(v) })
      expect(err.key).toBe(key)
      expect(err.message).toBe(`${PROJECT}:${key} must be an integer from ${min} to ${max} (got "${v}")`)
    }
  })

  it.each(BOOLEANS)('%s takes true and false only', key => {
    expect(FIELD[key]!(parseWith({ [key]: 'true' }))).toBe(true)
    expect(FIELD[key]!(parseWith({ [key]: 'false' }))).toBe(false)
    onlyMoved(key, parseWith({ [key]: String(DECLARED[key]?.default !== true) }))
    expect(refusal({ [key]: 'yes' }).message).toBe(`${PROJECT}:${key} must be true or false (got "yes")`)
  })

  it.each([
    ['routingStrategy', ['md5-mod', 'jump', 'discord-shard']],
    ['imagePullPolicy', ['Always', 'IfNotPresent', 'Never']],
    ['gatewayTopologySource', ['api', 'file']],
    ['routerUnrouted', ['reject', 'pod0']],
    ['routerLogLevel', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']],
    ['gatewaySpread', ['soft', 'hard', 'none']],
    ['routerSpread', ['soft', 'hard', 'none']]
  ])('%s takes each of its words and names them when refusing another', (key, words) => {
    for (const word of words) {
      const c = parseWith({ [key]: word })
      expect(FIELD[key]!(c)).toBe(word)
    }
    expect(refusal({ [key]: 'other' }).message).toBe(`${PROJECT}:${key} must be one of ${words.join(', ')} (got "other")`)
  })

  it.each([
    ['gatewayImage', 'registry.example/gateway:2'],
    ['gatewayStorageClass', 'fast-ssd'],
    ['grafanaDashboardNamespace', 'monitoring'],
    ['routerImage', 'registry.example/guild-router:2.0.0'],
    ['namespace', 'bots'],
    ['clusterDomain', 'cluster.example'],
    ['gatewayHealthPath', '/ready'],
    ['gatewayStorageSize', '10Gi'],
    ['gatewayCpuRequest', '1'],
    ['gatewayMemoryRequest', '300Mi'],
    ['gatewayMemoryLimit', '1Gi'],
    ['routerCpuRequest', '500m'],
    ['routerMemoryRequest', '150Mi'],
    ['routerMemoryLimit', '256Mi'],
    ['gatewayPriorityClassName', 'bots-critical']
  ])('%s is kept as set (trimmed), and moves nothing else', (key, value) => {
    const c = parseWith({ [key]: ` ${value} ` })
    expect(FIELD[key]!(c)).toBe(value)
    onlyMoved(key, c)
  })

  it.each(['gatewayImage', 'gatewayStorageClass', 'grafanaDashboardNamespace', 'gatewayPriorityClassName', 'imagePullPolicy'])('%s left empty or blank is unset', key => {
    expect(FIELD[key]!(parseWith({ [key]: '' }))).toBeUndefined()
    expect(FIELD[key]!(parseWith({ [key]: '   ' }))).toBeUndefined()
  })

  it('routerImage is required, and says how to set it', () => {
    expect(refusal({ routerImage: undefined }).message).toBe(`${PROJECT}:routerImage is required (set it with \`pulumi config set\`)`)
    expect(refusal({ routerImage: '  ' }).key).toBe('routerImage')
  })

  it.each([
    ['namespace', 'Bots', 'must be a DNS label (lower-case letters, digits and -, at most 63)'],
    ['namespace', 'a'.repeat(64), 'must be a DNS label (lower-case letters, digits and -, at most 63)'],
    ['namespace', '-bots', 'must be a DNS label (lower-case letters, digits and -, at most 63)'],
    ['namespace', 'bots-', 'must be a DNS label (lower-case letters, digits and -, at most 63)'],
    ['clusterDomain', '.cluster', 'must be a DNS domain such as cluster.local'],
    ['gatewayHealthPath', 'a/healthz', 'must be an absolute path such as /healthz'],
    ['gatewayStorageSize', 'x10Gi', 'must be a Kubernetes quantity such as 250m, 512Mi or 10Gi'],
    ['gatewayStorageSize', '10Gix', 'must be a Kubernetes quantity such as 250m, 512Mi or 10Gi'],
    ['gatewayPriorityClassName', '-critical', 'must be a PriorityClass name (lower-case letters, digits, - and .)'],
    ['gatewayPriorityClassName', 'critical-', 'must be a PriorityClass name (lower-case letters, digits, - and .)'],
    ['clusterDomain', 'cluster.local.', 'must be a DNS domain such as cluster.local'],
    ['gatewayHealthPath', 'healthz', 'must be an absolute path such as /healthz'],
    ['gatewayHealthPath', '/health z', 'must be an absolute path such as /healthz'],
    ['gatewayStorageSize', '10 GB', 'must be a Kubernetes quantity such as 250m, 512Mi or 10Gi'],
    ['gatewayCpuRequest', '1.5.2', 'must be a Kubernetes quantity such as 250m, 512Mi or 10Gi'],
    ['gatewayPriorityClassName', 'Critical', 'must be a PriorityClass name (lower-case letters, digits, - and .)']
  ])('%s refuses %j', (key, value, rule) => {
    const err = refusal({ [key]: value })
    expect(err.key).toBe(key)
    expect(err.message).toBe(`${PROJECT}:${key} ${rule} (got ${JSON.stringify(value)})`)
  })

  it('a namespace of exactly 63 characters is a DNS label, and so are one-character names', () => {
    expect(parseWith({ namespace: 'a'.repeat(63) }).namespace).toBe('a'.repeat(63))
    expect(parseWith({ namespace: 'a', clusterDomain: 'c', gatewayPriorityClassName: 'p' })).toMatchObject({ namespace: 'a', clusterDomain: 'c', gateway: { placement: { priorityClassName: 'p' } } })
  })

  it('integers: digits with an optional sign only', () => {
    // Number() alone would take all of these: hex, a plus sign, an exponent.
    for (const bad of ['x5', '5x', '5 0', '0x10', '+5', '1e1']) expect(refusal({ gatewayReplicas: bad }).key).toBe('gatewayReplicas')
  })

  it('a StackConfigError says what it is', () => {
    expect(refusal({ gatewayReplicas: 'x' }).name).toBe('StackConfigError')
  })

  it('label pairs: parsed, values may be empty, and a malformed pair names the key', () => {
    expect(parseWith({ prometheusOperatorLabels: ' release=kube-prometheus-stack , team=bots,empty= ,k=v' }).prometheusOperator.labels)
      .toEqual({ release: 'kube-prometheus-stack', team: 'bots', empty: '', k: 'v' })
    expect(parseWith({ gatewayNodeSelector: 'pool=gateways' }).gateway.placement.nodeSelector).toEqual({ pool: 'gateways' })
    expect(parseWith({ routerNodeSelector: 'pool=routers' }).router.placement.nodeSelector).toEqual({ pool: 'routers' })
    for (const bad of ['release', 'a=b=c', '=x', 'a=-x', 'a=x-', '-a=x', 'a-=x', 'x a=b', 'a=b c']) {
      expect(refusal({ prometheusOperatorLabels: bad }).message)
        .toBe(`${PROJECT}:prometheusOperatorLabels must be label pairs such as release=kube-prometheus-stack,team=bots (got ${JSON.stringify(bad)})`)
    }
  })

  it('tolerations reach their own tier, and a bad one names its key', () => {
    expect(parseWith({ gatewayTolerations: 'dedicated=gateways:NoSchedule' }).gateway.placement.tolerations)
      .toEqual([{ key: 'dedicated', operator: 'Equal', value: 'gateways', effect: 'NoSchedule' }])
    expect(parseWith({ routerTolerations: 'spot' }).router.placement.tolerations).toEqual([{ key: 'spot', operator: 'Exists' }])
    expect(refusal({ routerTolerations: 'a:Sometimes' }).key).toBe('routerTolerations')
  })
})

describe('the stack config: rules between keys', () => {
  it('routerMinReplicas may equal routerMaxReplicas but not exceed it', () => {
    expect(parseWith({ routerMinReplicas: '4', routerMaxReplicas: '4' }).router).toMatchObject({ minReplicas: 4, maxReplicas: 4 })
    expect(refusal({ routerMinReplicas: '5', routerMaxReplicas: '4' }).message).toBe(`${PROJECT}:routerMinReplicas (5) must not exceed ${PROJECT}:routerMaxReplicas (4)`)
  })

  it.each(['gateway', 'router'])('%sMemoryRequest may equal its limit but not exceed it', tier => {
    expect(() => parseWith({ [`${tier}MemoryRequest`]: '256Mi', [`${tier}MemoryLimit`]: '256Mi' })).not.toThrow()
    expect(refusal({ [`${tier}MemoryRequest`]: '257Mi', [`${tier}MemoryLimit`]: '256Mi' }).message)
      .toBe(`${PROJECT}:${tier}MemoryRequest (257Mi) must not exceed ${PROJECT}:${tier}MemoryLimit (256Mi)`)
  })

  it('routerMemoryLimit has a floor of 160Mi, which it may equal', () => {
    expect(parseWith({ routerMemoryRequest: '100Mi', routerMemoryLimit: '160Mi' }).router.resources.memoryLimit).toBe('160Mi')
    expect(refusal({ routerMemoryRequest: '100Mi', routerMemoryLimit: '159Mi' }).message).toBe(
      `${PROJECT}:routerMemoryLimit must be at least 160Mi: about 100 MiB of the router is resident outside its heap, and the heap needs room (got 159Mi)`)
  })

  it.each([
    [{ routerPort: '9000', routerAdminPort: '9000' }, 'routerAdminPort', 'must differ from guild-router:routerPort (both 9000)'],
    [{ gatewayPeerPort: '3000' }, 'gatewayPeerPort', 'must differ from guild-router:gatewayPort (both 3000)'],
    [{ gatewayMetricsPort: '3000' }, 'gatewayMetricsPort', 'must differ from guild-router:gatewayPort (both 3000)'],
    [{ gatewayMetricsPort: '3001' }, 'gatewayMetricsPort', 'must differ from guild-router:gatewayPeerPort (both 3001)']
  ])('ports that must differ: %j', (over, key, rule) => {
    const err = refusal(over)
    expect(err.key).toBe(key)
    expect(err.message).toBe(`${PROJECT}:${key} ${rule}`)
  })
})
