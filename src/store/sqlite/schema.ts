/**
 * Layout of the embedded store file. `application_id` marks the file as ours, so that pointing retrace at some other
 * SQLite database is a clear error instead of a silent empty result. `user_version` is the layout version.
 */
export const APPLICATION_ID = 0x52545243; // 'RTRC'
export const LAYOUT_VERSION = 2;

/**
 * Layout 2: the tenant-wide eventId index (durable idempotency, DUPLICATE_EVENT_ID) is no longer a unique index on
 * `events`. Event ids are random UUIDs, so that index took one random B-tree leaf per appended event, and in WAL mode
 * every commit writes each page it touched whole: ~4 KB of index per ~1 KB event, 3–5× the bytes a raw log writes per
 * batch (measured with bench/store.bench.ts). Instead:
 *   - `recent_event_ids` holds the ids of the latest appends in append order (a sequential, cheap write);
 *   - `event_ids` holds the rest, keyed by (tenant_id, event_id), filled in sorted bulk merges from `recent_event_ids`
 *     (src/store/sqlite/event-id-index.ts), so a merge touches each leaf at most once for thousands of events;
 *   - `store_meta.id_generation` counts merges and trace deletions, so every connection knows when the recent ids it
 *     holds in memory are stale.
 * Both tables are written in the same transaction as the events, so the file alone still decides idempotency.
 */
const EVENT_ID_TABLES = `
CREATE TABLE IF NOT EXISTS event_ids (
  tenant_id  TEXT    NOT NULL,
  event_id   TEXT    NOT NULL,
  row_id     INTEGER NOT NULL,             -- events.id
  PRIMARY KEY (tenant_id, event_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS recent_event_ids (
  row_id     INTEGER PRIMARY KEY,          -- events.id
  tenant_id  TEXT    NOT NULL,
  event_id   TEXT    NOT NULL
);
CREATE TABLE IF NOT EXISTS store_meta (
  key        TEXT    PRIMARY KEY,
  value      INTEGER NOT NULL
);
INSERT OR IGNORE INTO store_meta (key, value) VALUES ('id_generation', 0);
`;

/** Layout 1 → 2, run inside the first write transaction on an older store (reads never change the file). */
export const MIGRATE_1_TO_2 = `
${EVENT_ID_TABLES}
INSERT INTO event_ids (tenant_id, event_id, row_id) SELECT tenant_id, event_id, id FROM events ORDER BY tenant_id, event_id;
DROP INDEX IF EXISTS events_by_event_id;
PRAGMA user_version = 2;
`;

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
-- gapless order is enforced by the file itself
CREATE UNIQUE INDEX IF NOT EXISTS events_by_seq ON events (tenant_id, trace_id, seq);
${EVENT_ID_TABLES}`;
