import { describe, expect, it } from 'vitest'
import { validateManifest } from './kubernetes-schema'
import { runProgram, stackConfig } from './pulumi-harness'

describe('the validator is strict', () => {
  const base = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'x' }, spec: { ports: [{ port: 80 }] } }

  it('accepts a valid object', async () => {
    expect(await validateManifest(base)).toEqual([])
  })

  it.each([
    ['a misspelled field', { ...base, spec: { ports: [{ port: 80 }], selecter: { a: 'b' } } }, /spec\.selecter: unknown field/],
    ['an unknown nested field', { ...base, spec: { ports: [{ port: 80, protocl: 'TCP' }] } }, /ports\[0\]\.protocl: unknown field/],
    ['a wrong type', { ...base, spec: { ports: [{ port: '80' }] } }, /port/],
    ['a bad enum value', { ...base, spec: { ports: [{ port: 80 }], type: 'Headless' } }, /type/],
    ['a missing required field', { ...base, spec: { ports: [{}] } }, /port/],
    ['a PodMonitor with a bad scrape interval', { apiVersion: 'monitoring.coreos.com/v1', kind: 'PodMonitor', metadata: { name: 'x' }, spec: { selector: {}, podMetricsEndpoints: [{ port: 'admin', interval: '15 seconds' }] } }, /interval must match pattern/],
    ['a PrometheusRule with a bad for', { apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata: { name: 'x' }, spec: { groups: [{ name: 'g', rules: [{ alert: 'A', expr: 'up == 0', for: '1 minute' }] }] } }, /for must match pattern/]
  ])('rejects %s', async (_what, manifest, problem) => {
    const problems = await validateManifest(manifest)
    expect(problems.join('\n')).toMatch(problem)
  })
})

describe('every manifest the program produces', () => {
  it.each([
    ['staging', {}],
    ['staging with options', { gatewayStorageClass: 'ssd', gatewayImage: 'registry.example.com/gw:1', routerDrainSeconds: '0', createNamespace: 'true' }],
    ['staging with the prometheus-operator objects', { podMonitor: 'true', prometheusRule: 'true', prometheusOperatorLabels: 'release=kube-prometheus-stack' }],
    ['staging with every placement key', { gatewaySpread: 'hard', routerSpread: 'soft', gatewayNodeSelector: 'pool=gateways', routerNodeSelector: 'pool=routers', gatewayTolerations: 'dedicated=bots:NoSchedule', routerTolerations: 'spot:NoExecute', gatewayPriorityClassName: 'guild-gateways' }]
  ])('validates strictly against the Kubernetes schema (%s)', async (_name, overrides) => {
    const run = await runProgram(stackConfig('staging', overrides))
    const manifests = run.resources.filter(r => r.type.startsWith('kubernetes:'))
    expect(manifests.length).toBeGreaterThanOrEqual(8)
    for (const m of manifests) {
      expect(await validateManifest(m.inputs), `${m.type} ${m.name}`).toEqual([])
    }
  })
})
