#!/usr/bin/env node
'use strict'
// Thin launcher: the CLI is compiled TypeScript (npm run build).
const { runCli } = require('../dist/service/cli.js')
process.exitCode = runCli(process.argv.slice(2), process.env,
  s => process.stdout.write(s), s => process.stderr.write(s))
