// Prints the mutation score of every mutated module from Stryker's JSON report
// and exits 1 if one is under 90%. Score = detected / (detected + undetected),
// as Stryker counts it: Killed and Timeout are detected, Survived and
// NoCoverage are not; Ignored (a `Stryker disable` comment with its reason)
// and mutants that do not compile are left out.
//   node scripts/mutation/scores.mjs [reports/mutation/mutation.json]
import { readFileSync } from 'node:fs'

const GOAL = 90
const report = JSON.parse(readFileSync(process.argv[2] ?? 'reports/mutation/mutation.json', 'utf8'))
const rows = Object.entries(report.files).map(([file, { mutants }]) => {
  const count = status => mutants.filter(m => m.status === status).length
  const detected = count('Killed') + count('Timeout')
  const undetected = count('Survived') + count('NoCoverage')
  const score = detected + undetected === 0 ? 100 : (100 * detected) / (detected + undetected)
  return { file, detected, undetected, ignored: count('Ignored'), score, survivors: mutants.filter(m => m.status === 'Survived' || m.status === 'NoCoverage') }
}).sort((a, b) => a.file.localeCompare(b.file))

const width = Math.max(...rows.map(r => r.file.length))
process.stdout.write(`${'module'.padEnd(width)}  score  killed  survived  ignored\n`)
for (const r of rows) {
  process.stdout.write(`${r.file.padEnd(width)}  ${r.score.toFixed(1).padStart(5)}  ${String(r.detected).padStart(6)}  ${String(r.undetected).padStart(8)}  ${String(r.ignored).padStart(7)}\n`)
}
const under = rows.filter(r => r.score < GOAL)
for (const r of under) {
  process.stdout.write(`\n${r.file}: ${r.score.toFixed(1)}%, under ${GOAL}%. Survivors:\n`)
  for (const m of r.survivors) process.stdout.write(`  line ${m.location.start.line}: ${m.mutatorName} → ${JSON.stringify(m.replacement ?? '')}\n`)
}
process.exit(under.length === 0 ? 0 : 1)
