import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onTestFinished } from 'vitest'

/**
 * Directories a test writes to (logs, SQLite files, a node's containerd
 * root), which it removes when done. A real-node run leaves about 650 MB,
 * so runs on one machine would otherwise fill its disk.
 */

/** A new directory under the system temp dir. */
export function scratchDir (prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

/**
 * Removes `dir`, but never while a filesystem is mounted at or below it: a
 * recursive delete would go into the mount (an overlay's lower layers, a
 * bind-mounted host path). A leftover mount is a clean-up failure to report.
 */
export function removeScratchDir (dir: string): void {
  const mounted = mountPointsUnder(dir)
  if (mounted.length > 0) throw new Error(`not removing ${dir}: still mounted below it: ${mounted.join(', ')}`)
  rmSync(dir, { recursive: true, force: true })
}

/** A scratch directory for the running test, removed when it finishes (passed or failed). */
export function testScratchDir (prefix: string): string {
  const dir = scratchDir(prefix)
  onTestFinished(() => { removeScratchDir(dir) })
  return dir
}

/** Mount points at or below `dir`, from this process's mount table. */
export function mountPointsUnder (dir: string): string[] {
  // mountinfo's fifth field is the mount point, with spaces and the like as octal escapes.
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map(line => line.split(' ')[4])
    .filter((point): point is string => point !== undefined)
    .map(point => point.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))))
    .filter(point => point === dir || point.startsWith(`${dir}/`))
}
