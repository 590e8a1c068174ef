const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const COLON = 0x3a
const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d
const OPEN_ARRAY = 0x5b
const CLOSE_ARRAY = 0x5d
const SPACE = 0x20
const TAB = 0x09
const LF = 0x0a
const CR = 0x0d

/**
 * The raw text of every value of the top-level member named `key`, in the
 * order written, for JSON text that `JSON.parse` has already accepted as an
 * object. `JSON.parse` keeps only the last of repeated names (RFC 8259 §4
 * leaves the meaning open), while another parser, say the gateway's, may
 * keep the first; the router has to see them all to tell when they differ.
 *
 * Only this scan, not a second parser: the text is known to be valid, so
 * strings, nesting and member separators are all it has to track. A string
 * at the top level is a member's name when a colon follows it.
 */
export function topLevelValues (json: string, key: string): string[] {
  const values: string[] = []
  let depth = 0
  let valueStart = -1
  // Stryker disable next-line EqualityOperator: equivalent, charCodeAt past the end is NaN and matches nothing
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i)
    if (c === QUOTE) {
      const end = stringEnd(json, i)
      if (depth === 1) {
        const next = skipSpace(json, end)
        if (json.charCodeAt(next) === COLON && nameOf(json, i, end) === key) valueStart = next + 1
      }
      i = end - 1
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      depth++
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--
      // The top-level object ends: its last member's value with it.
      if (depth === 0) {
        if (valueStart !== -1) values.push(json.slice(valueStart, i).trim())
        return values
      }
    } else if (c === COMMA && depth === 1 && valueStart !== -1) {
      values.push(json.slice(valueStart, i).trim())
      valueStart = -1
    }
  }
  return values
}

/** The index just past the string that starts with the quote at `start`. */
function stringEnd (json: string, start: number): number {
  // Stryker disable next-line EqualityOperator: equivalent, charCodeAt past the end is NaN and matches nothing
  for (let i = start + 1; i < json.length; i++) {
    const c = json.charCodeAt(i)
    if (c === BACKSLASH) i++
    else if (c === QUOTE) return i + 1
  }
  return json.length
}

/** The index of the first character at or after `from` that is not JSON whitespace. */
function skipSpace (json: string, from: number): number {
  let i = from
  for (let c = json.charCodeAt(i); c === SPACE || c === TAB || c === LF || c === CR; c = json.charCodeAt(++i));
  return i
}

/** A member name as JSON.parse reads it: escapes decoded only when there are any. */
function nameOf (json: string, start: number, end: number): string {
  const raw = json.slice(start + 1, end - 1)
  // Stryker disable next-line StringLiteral: equivalent, decoding a name without escapes gives the same name; the check only saves the work
  return raw.includes('\\') ? JSON.parse(json.slice(start, end)) as string : raw
}
