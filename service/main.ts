import { parseConfig } from './config'
import { ConfigError } from './errors'
import { createLogger } from './telemetry/logger'
import { startRouter } from './router/router'

/** Process entry point: `node dist/service/main.js`, configured by environment. */
async function main (): Promise<void> {
  let config
  try {
    config = parseConfig(process.env)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`guild-router: invalid configuration: ${err.message}\n`)
      process.exit(2)
    }
    throw err
  }
  const logger = createLogger(config.logLevel)
  const router = await startRouter(config, logger)
  // The start-up line is printed at any level but silent: supervisors and
  // scripts read the bound ports from it.
  const startup = config.logLevel === 'silent' ? logger : logger.child({}, { level: 'info' })
  startup.info({
    port: router.port,
    adminPort: router.adminPort,
    strategy: config.strategy,
    numPods: config.numGatewayPods,
    gateways: config.gatewayUrls
  }, 'listening')

  const onSignal = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'shutdown requested')
    router.shutdown().then(() => process.exit(0), err => {
      logger.error({ err }, 'shutdown failed')
      process.exit(1)
    })
  }
  process.once('SIGTERM', onSignal)
  process.once('SIGINT', onSignal)
}

main().catch(err => {
  process.stderr.write(`guild-router: failed to start: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
