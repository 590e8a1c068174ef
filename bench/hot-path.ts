import { execFileSync, spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { startNode, type NodeProcess } from '../service/local/processes'

/**
 * Express in front of the proxy handler, or node:http directly? Runs both
 * (and the gateway alone, the ceiling) under wrk with the router pinned to
 * core 0 and wrk plus the gateway on core 1, in interleaved rounds.
 *   npm run bench:hot-path -- [seconds=8] [rounds=2] [connections=32]
 */
const [seconds = 8, rounds = 2, connections = 32] = process.argv.slice(2).map(Number)
const ROUTER_CORE = '0'
const LOAD_CORE = process.env.LOAD_CORE ?? '1'

function pinned (proc: NodeProcess, core: string): void {
  execFileSync('taskset', ['-pc', core, String(proc.child.pid)], { stdio: 'ignore' })
}

function wrk (url: string, duration = seconds): { rps: number, p50: string, p99: string } {
  const out = spawnSync('taskset', ['-c', LOAD_CORE, 'wrk', '-t1', `-c${connections}`, `-d${duration}s`, '--latency',
    '-s', join(__dirname, '..', '..', 'bench', 'random-guild.lua'), url], { encoding: 'utf8' })
  if (out.status !== 0) throw new Error(`wrk failed: ${out.stderr}`)
  const rps = Number(/Requests\/sec:\s+([0-9.]+)/.exec(out.stdout)?.[1])
  const p50 = /50%\s+(\S+)/.exec(out.stdout)?.[1] ?? '?'
  const p99 = /99%\s+(\S+)/.exec(out.stdout)?.[1] ?? '?'
  return { rps, p50, p99 }
}

async function main (): Promise<void> {
  const gateway = startNode('local/reference-gateway-main.js', { ORDINAL: '0', PORT: '0' })
  const { port: gatewayPort } = await gateway.listening
  pinned(gateway, LOAD_CORE)
  const env = { NUM_GATEWAY_PODS: '1', GATEWAY_URLS: `http://127.0.0.1:${gatewayPort}`, HOST: '127.0.0.1', PORT: '0', ADMIN_PORT: '0' }
  const direct = startNode('main.js', env)
  const viaExpress = startNode('../bench/express-router-main.js', env)
  const [a, b] = await Promise.all([direct.listening, viaExpress.listening])
  pinned(direct, ROUTER_CORE)
  pinned(viaExpress, ROUTER_CORE)

  const targets: Array<[string, string]> = [
    ['gateway directly', `http://127.0.0.1:${gatewayPort}`],
    ['router on node:http', `http://127.0.0.1:${a.port}`],
    ['router under Express 5', `http://127.0.0.1:${b.port}`]
  ]
  process.stdout.write(`hot path: wrk -c${connections} ${seconds}s × ${rounds} rounds, router on core ${ROUTER_CORE}, wrk+gateway on core ${LOAD_CORE}\n`)
  const results = new Map<string, number[]>()
  for (let r = 0; r < rounds; r++) {
    for (const [name, url] of targets) {
      wrk(url, 2) // warm-up: JIT and connection pools, discarded
      const m = wrk(url)
      results.set(name, [...(results.get(name) ?? []), m.rps])
      process.stdout.write(`round ${r + 1}  ${name.padEnd(24)} ${m.rps.toFixed(0).padStart(7)} req/s  p50 ${m.p50}  p99 ${m.p99}\n`)
    }
  }
  for (const [name, rps] of results) {
    const sorted = [...rps].sort((x, y) => x - y)
    process.stdout.write(`median ${name.padEnd(24)} ${sorted[Math.floor(sorted.length / 2)]?.toFixed(0)} req/s\n`)
  }
  await Promise.all([direct.stop(), viaExpress.stop(), gateway.stop()])
}

main().catch(err => { process.stderr.write(`${String(err)}\n`); process.exit(1) })
