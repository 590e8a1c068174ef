import type { DatabaseSync } from 'node:sqlite'

/**
 * The reference gateway's data: one table of entries per guild, numbered
 * 1, 2, 3 … across every pod the guild ever lived on (the numbering moves
 * with the file). A request delivered twice is stored twice, so a duplicate
 * delivery is visible rather than absorbed.
 */
export const ENTRIES_SCHEMA = `CREATE TABLE IF NOT EXISTS entries (
  seq INTEGER PRIMARY KEY,
  request_id TEXT NOT NULL,
  sha256 TEXT NOT NULL
) STRICT;`

export interface Entry {
  readonly seq: number
  readonly requestId: string
  readonly sha256: string
}

/** Appends one entry and commits it (synchronous=FULL: on disk when this returns). */
export function appendEntry (db: DatabaseSync, requestId: string, sha256: string): number {
  const row = db.prepare('INSERT INTO entries (seq, request_id, sha256) VALUES ((SELECT COALESCE(MAX(seq), 0) + 1 FROM entries), ?, ?) RETURNING seq')
    .get(requestId, sha256) as { seq: number }
  return row.seq
}

export function listEntries (db: DatabaseSync): Entry[] {
  return (db.prepare('SELECT seq, request_id, sha256 FROM entries ORDER BY seq').all() as Array<{ seq: number, request_id: string, sha256: string }>)
    .map(r => ({ seq: r.seq, requestId: r.request_id, sha256: r.sha256 }))
}
