/**
 * Layout of the embedded store file. `application_id` marks the file as ours, so that pointing retrace at some other
 * SQLite database is a clear error instead of a silent empty result. `user_version` is the layout version.
 */
export const APPLICATION_ID = 0x52545243; // 'RTRC'
export const LAYOUT_VERSION = 1;

export const CREATE_TABLES = `
CREATE TABLE IF NOT EXISTS traces (
  tenant_id     TEXT    NOT NULL,
  trace_id      TEXT    NOT NULL,
  agent         TEXT,
  status        TEXT    NOT NULL,          -- running | completed | failed (incomplete is derived at read time)
  event_count   INTEGER NOT NULL,
  last_seq      INTEGER NOT NULL,
  last_hash     TEXT    NOT NULL,
  total_bytes   INTEGER NOT NULL,
  started_at    TEXT,
  ended_at      TEXT,
  updated_at    TEXT    NOT NULL,
  input_tokens  INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  cost_usd      REAL    NOT NULL DEFAULT 0,
  lifecycle     TEXT    NOT NULL,          -- persisted lifecycle state (src/events/lifecycle.ts)
  writer_pid    INTEGER,
  writer_host   TEXT,
  replay_of     TEXT,
  PRIMARY KEY (tenant_id, trace_id)
);
CREATE INDEX IF NOT EXISTS traces_by_start ON traces (tenant_id, started_at DESC, trace_id DESC);

-- a rowid table: faster than WITHOUT ROWID for ~1 KB rows (measured; bench/store.bench.ts)
CREATE TABLE IF NOT EXISTS events (
  id         INTEGER PRIMARY KEY,
  tenant_id  TEXT    NOT NULL,
  trace_id   TEXT    NOT NULL,
  seq        INTEGER NOT NULL,
  event_id   TEXT    NOT NULL,
  type       TEXT    NOT NULL,
  body       TEXT    NOT NULL              -- the full stored envelope as JSON, hash included
);
-- durable idempotency and gapless order are enforced by the file itself, not by a cache
CREATE UNIQUE INDEX IF NOT EXISTS events_by_seq ON events (tenant_id, trace_id, seq);
CREATE UNIQUE INDEX IF NOT EXISTS events_by_event_id ON events (tenant_id, event_id);
`;
