import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const ROOT = join(__dirname, '..')

/** Every .ts file under `dir`, with the relative modules it imports or re-exports (type-only ones too). */
function graph (dir: string): Map<string, string[]> {
  const edges = new Map<string, string[]>()
  for (const entry of readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue
    const file = join(entry.parentPath, entry.name)
    const imports = ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles
      .map(i => i.fileName)
      .filter(name => name.startsWith('.'))
      .map(name => resolve(dirname(file), name))
      .flatMap(base => [`${base}.ts`, join(base, 'index.ts')].filter(existsSync).slice(0, 1))
    edges.set(file, imports)
  }
  return edges
}

/** Each import cycle once, as the files around it. */
function cycles (edges: Map<string, string[]>): string[] {
  const found = new Set<string>()
  const done = new Set<string>()
  const path: string[] = []
  const visit = (file: string): void => {
    const at = path.indexOf(file)
    if (at !== -1) {
      found.add([...path.slice(at), file].map(f => relative(ROOT, f)).join(' → '))
      return
    }
    if (done.has(file)) return
    path.push(file)
    for (const next of edges.get(file) ?? []) visit(next)
    path.pop()
    done.add(file)
  }
  for (const file of edges.keys()) visit(file)
  return [...found]
}

describe('module graph', () => {
  // A cycle means neither module can be read, tested or changed alone, and
  // its load order decides which side sees the other half-initialised.
  it.each(['service', 'infra'])('%s/ has no import cycle', dir => {
    expect(cycles(graph(dir))).toEqual([])
  })

  it('production code never imports test or bench code', () => {
    for (const dir of ['service', 'infra']) {
      for (const [file, imports] of graph(dir)) {
        const outside = imports.map(i => relative(ROOT, i)).filter(i => /^(test|bench|dev)\//.test(i))
        expect(outside, relative(ROOT, file)).toEqual([])
      }
    }
  })
})
