const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const COLON = 0x3a
const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d
const OPEN_ARRAY = 0x5b
const CLOSE_ARRAY = 0x5d

/**
 * The raw text of every value of the top-level member named `key`, in the
 * order written, for JSON text that `JSON.parse` has already accepted as an
 * object. `JSON.parse` keeps only the last of repeated names (RFC 8259 §4
 * leaves the meaning open), while another parser, say the gateway's, may
 * keep the first; the router has to see them all to tell when they differ.
 *
 * Only this scan, not a second parser: the text is known to be valid, so
 * strings, nesting and member separators are all it has to track.
 */
export function topLevelValues (json: string, key: string): string[] {
  const values: string[] = []
  let depth = 0
  let expectName = false
  let valueStart = -1
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i)
    if (c === QUOTE) {
      const end = stringEnd(json, i)
      if (depth === 1 && expectName) {
        expectName = false
        if (nameOf(json, i, end) === key) valueStart = json.indexOf(':', end) + 1
      }
      i = end - 1
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      depth++
      if (depth === 1) expectName = c === OPEN_OBJECT
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (depth === 1 && valueStart !== -1) {
        values.push(json.slice(valueStart, i).trim())
        valueStart = -1
      }
      depth--
    } else if (c === COMMA && depth === 1) {
      if (valueStart !== -1) {
        values.push(json.slice(valueStart, i).trim())
        valueStart = -1
      }
      expectName = true
    } else if (c === COLON && depth === 1) {
      expectName = false
    }
  }
  return values
}

/** The index just past the string that starts with the quote at `start`. */
function stringEnd (json: string, start: number): number {
  for (let i = start + 1; i < json.length; i++) {
    const c = json.charCodeAt(i)
    if (c === BACKSLASH) i++
    else if (c === QUOTE) return i + 1
  }
  return json.length
}

/** A member name as JSON.parse reads it: escapes decoded only when there are any. */
function nameOf (json: string, start: number, end: number): string {
  const raw = json.slice(start + 1, end - 1)
  return raw.includes('\\') ? JSON.parse(json.slice(start, end)) as string : raw
}
