/**
 * Every error the router answers with has a stable `code` (the JSON `error`
 * field clients match on) and the HTTP status it maps to. Messages are for
 * people; codes are the contract. Stack traces never leave the process.
 */
export type ErrorCode =
  | 'missing_guild_id'
  | 'invalid_guild_id'
  | 'conflicting_guild_id'
  | 'payload_too_large'
  | 'bad_gateway'
  | 'gateway_unavailable'
  | 'gateway_timeout'
  | 'connection_closing'
  | 'not_found'
  | 'internal_error'
  | 'invalid_request'
  | 'invalid_path'
  | 'method_not_allowed'
  | 'bad_request'
  | 'request_timeout'
  | 'headers_too_large'

export class RouterError extends Error {
  readonly code: ErrorCode
  readonly status: number

  constructor (code: ErrorCode, status: number, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'RouterError'
    this.code = code
    this.status = status
  }

  toJSON (): { error: ErrorCode, message: string } {
    return { error: this.code, message: this.message }
  }
}

export class MissingGuildIdError extends RouterError {
  constructor () {
    super('missing_guild_id', 400,
      'no guild id: send an x-guild-id header, a /guilds/<id> path, a guild_id query parameter or a JSON body with guild_id')
    this.name = 'MissingGuildIdError'
  }
}

export class InvalidGuildIdError extends RouterError {
  constructor (source: string, reason: string) {
    super('invalid_guild_id', 400, `guild id from ${source} ${reason}`)
    this.name = 'InvalidGuildIdError'
  }
}

export class ConflictingGuildIdError extends RouterError {
  constructor (a: { source: string, id: string }, b: { source: string, id: string }) {
    super('conflicting_guild_id', 400,
      `guild id ${a.id} from ${a.source} disagrees with ${b.id} from ${b.source}`)
    this.name = 'ConflictingGuildIdError'
  }
}

export class PayloadTooLargeError extends RouterError {
  constructor (limit: number) {
    super('payload_too_large', 413, `request body exceeds MAX_BODY_BYTES (${limit} bytes)`)
    this.name = 'PayloadTooLargeError'
  }
}

/**
 * A request target whose meaning changes under normalisation (dot-segments,
 * encoded dots or slashes): the gateway might not see the segment the router
 * routed by as the guild, so such a path is refused rather than guessed at.
 */
export class InvalidPathError extends RouterError {
  constructor (reason: string) {
    super('invalid_path', 400, `request target ${reason}`)
    this.name = 'InvalidPathError'
  }
}

/** The router is not a forward proxy: CONNECT, and methods on `*` other than OPTIONS. */
export class MethodNotAllowedError extends RouterError {
  constructor (method: string, target: string) {
    super('method_not_allowed', 405, `${method} ${target} is not served: the router is a reverse proxy for guild requests`)
    this.name = 'MethodNotAllowedError'
  }
}

/** The gateway answered with something that is not a usable HTTP response. */
export class BadGatewayError extends RouterError {
  constructor (pod: number, message: string, options?: { cause?: unknown }) {
    super('bad_gateway', 502, `gateway pod ${pod}: ${message}`, options)
    this.name = 'BadGatewayError'
  }
}

/** The owner pod could not be reached; the request never left the router. */
export class GatewayUnavailableError extends RouterError {
  constructor (pod: number, message: string, options?: { cause?: unknown }) {
    super('gateway_unavailable', 503, `gateway pod ${pod}: ${message}`, options)
    this.name = 'GatewayUnavailableError'
  }
}

export class GatewayTimeoutError extends RouterError {
  constructor (pod: number, message: string, options?: { cause?: unknown }) {
    super('gateway_timeout', 504, `gateway pod ${pod}: ${message}`, options)
    this.name = 'GatewayTimeoutError'
  }
}

/** Configuration is read once at start-up; this names the variable at fault. */
export class ConfigError extends Error {
  readonly code = 'invalid_config'
  readonly variable: string

  constructor (variable: string, message: string) {
    super(`${variable} ${message}`)
    this.name = 'ConfigError'
    this.variable = variable
  }
}
