// npm run test:mutation: how much of what the modules that decide do is
// pinned by tests. Stryker changes one operator, condition or literal at a
// time ("a mutant") and runs the tests that cover that line; a mutant no test
// notices ("survived") is behaviour no test asserts. Outside npm test: it
// takes tens of minutes on a 2-core machine.
//
// A survivor that cannot be told apart (an equivalent mutant), or whose
// change does not matter, is marked where it lives with
// `// Stryker disable next-line <mutator>: <why>`, so the reason is read with
// the code and the mutant leaves the score. scripts/mutation/scores.mjs
// prints the score per module and fails below 90%.
//
// npm run test:mutation builds dist/ first: config.test.ts also starts the
// built router with a bad configuration, and on a fresh clone there is no
// dist/ (the dry run failed there, exit 1 instead of 2).

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.mts' },
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.mutation.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: 'perTest',
  mutate: [
    // routing
    'service/routing/digest.ts',
    'service/routing/guild-id.ts',
    'service/routing/strategies.ts',
    'service/routing/strategy-names.ts',
    'service/routing/rescale-plan.ts',
    'service/routing/pod-address.ts',
    'service/routing/gateway-contract.ts',
    // guild sources and request targets
    'service/proxy/guild-source.ts',
    'service/proxy/json-members.ts',
    'service/proxy/request-target.ts',
    // retry policy and budget, upstream failure classes, pod health, a gateway's 421
    'service/proxy/retry-policy.ts',
    'service/proxy/retry-budget.ts',
    'service/proxy/upstream-failure.ts',
    'service/proxy/pod-health.ts',
    'service/proxy/refusal-policy.ts',
    // config parsing
    'service/config.ts',
    // the ownership gate and the handoff core
    'service/gateway/ownership-gate.ts',
    'service/gateway/handoff-barrier.ts',
    'service/gateway/topology.ts',
    'service/gateway/guild-leases.ts',
    'service/gateway/handoff-journal.ts',
    // the program's spec builders
    'infra/gateway-specs.ts',
    'infra/router-specs.ts',
    'infra/handoff-barrier-spec.ts',
    'infra/placement.ts',
    'infra/stack-config.ts',
    'infra/memory.ts',
    'infra/labels.ts',
    'infra/security.ts'
  ],
  concurrency: 2,
  timeoutMS: 20_000,
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  clearTextReporter: { allowColor: false, logTests: false, maxTestsToLog: 0 },
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always'
}
