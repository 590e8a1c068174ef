/**
 * The log levels LOG_LEVEL takes, pino's and `silent`: parsed by the router's
 * config and by the program's routerLogLevel key, so both accept the same
 * words. A module of its own because the program cannot import the router's
 * config (it compiles under the engine's TypeScript settings).
 */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']
