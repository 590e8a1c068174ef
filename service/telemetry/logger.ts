import pino, { type Logger } from 'pino'
import type { LogLevel } from '../config'

export type { Logger }

/** JSON lines on stdout, one object per event: what `kubectl logs` and shippers read. */
export function createLogger (level: LogLevel = 'info'): Logger {
  return pino({
    level,
    base: { service: 'guild-router' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: label => ({ level: label }) }
  })
}
