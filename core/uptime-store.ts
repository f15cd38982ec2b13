/**
 * Uptime history in libSQL: the `uptime` domain's tables, the per-facility lease and
 * checkpoint, the one-transaction commit of a run, retention, and the reads of the summary.
 *
 * Tables (migration 1):
 * - `uptime_checkpoints` (facility PK): events consumed up to `checkpoint_at` (Engine time), the
 *   `anchor` event that proves the next run's window complete, the container `snapshot` at the
 *   checkpoint, `unreachable_since` (first failed run since the last good one), `runs` (a
 *   version for compare-and-set), `pruned_at`, `last_run_at`, `last_error`.
 * - `uptime_leases` (facility PK): `holder`, `expires_at` (ms since the epoch): one run at a
 *   time per facility, across processes sharing the database.
 * - `uptime_transitions` (facility, app, at) PK: every state change with its exact time,
 *   `state` running/not-running/unknown, `source` event/reconcile/first-run/unreachable/retention,
 *   `action` (Engine action or what a reconciliation used), `container_id`.
 * - `uptime_samples` (facility, app, at) PK: one row per app per run.
 *
 * Times are ISO-8601 UTC text with nine fractional digits (fixed width: text order is time
 * order); lease expiry is an integer. History is keyed by facility and app name, so it
 * continues across hard resets and outlives a deleted app until retention prunes it.
 *
 * @module
 */
import type { Client, InStatement, Transaction } from '@libsql/client';
import { domainDb, ensureMigrationsTable, migrate, withBusyRetry, type Migration } from './store.ts';
import { nsToIso, isoToNs, type AppState, type Snapshot, type Transition, type TransitionSource } from './uptime-model.ts';

export const UPTIME_MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'uptime: checkpoints, leases, transitions, samples',
    sql: [
      `CREATE TABLE uptime_checkpoints (
        facility TEXT PRIMARY KEY,
        checkpoint_at TEXT,
        anchor TEXT,
        snapshot TEXT NOT NULL DEFAULT '{}',
        unreachable_since TEXT,
        runs INTEGER NOT NULL DEFAULT 0,
        pruned_at TEXT,
        last_run_at TEXT,
        last_error TEXT
      )`,
      `CREATE TABLE uptime_leases (
        facility TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        acquired_at TEXT NOT NULL
      )`,
      `CREATE TABLE uptime_transitions (
        facility TEXT NOT NULL,
        app TEXT NOT NULL,
        at TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('running', 'not-running', 'unknown')),
        source TEXT NOT NULL CHECK (source IN ('event', 'reconcile', 'first-run', 'unreachable', 'retention')),
        action TEXT,
        container_id TEXT,
        PRIMARY KEY (facility, app, at)
      ) WITHOUT ROWID`,
      'CREATE INDEX uptime_transitions_by_time ON uptime_transitions (facility, at)',
      `CREATE TABLE uptime_samples (
        facility TEXT NOT NULL,
        app TEXT NOT NULL,
        at TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('running', 'not-running', 'unknown')),
        PRIMARY KEY (facility, app, at)
      ) WITHOUT ROWID`,
    ],
  },
];

/** The process database with the uptime tables migrated. */
export const uptimeDb = domainDb('uptime', UPTIME_MIGRATIONS);

/** A given client (tests, benchmarks, a second runner) with the uptime tables migrated. */
export async function openUptimeDb(db?: Client): Promise<Client> {
  if (!db) return uptimeDb();
  await ensureMigrationsTable(db);
  await migrate(db, 'uptime', UPTIME_MIGRATIONS);
  return db;
}

/** The newest app event the previous run saw: if the Engine still has it, nothing after it was lost. */
export interface Anchor {
  timeNano: string;
  id: string;
  action: string;
}

/** A facility's checkpoint row. */
export interface Checkpoint {
  facility: string;
  checkpointAt: bigint | null;
  anchor: Anchor | null;
  snapshot: Snapshot;
  unreachableSince: bigint | null;
  runs: number;
  prunedAt: bigint | null;
  lastRunAt: string | null;
  lastError: string | null;
}

/** Reads a facility's checkpoint, or `null` before its first run. */
export async function readCheckpoint(db: Client | Transaction, facility: string): Promise<Checkpoint | null> {
  const r = await withBusyRetry(() => db.execute({ sql: 'SELECT * FROM uptime_checkpoints WHERE facility = ?', args: [facility] }));
  return checkpointFromRow(facility, r.rows[0]);
}

function checkpointFromRow(facility: string, row: Record<string, unknown> | undefined): Checkpoint | null {
  if (!row) return null;
  return {
    facility,
    checkpointAt: isoToNs(row.checkpoint_at as string | null),
    anchor: row.anchor ? (JSON.parse(row.anchor as string) as Anchor) : null,
    snapshot: JSON.parse((row.snapshot as string) || '{}') as Snapshot,
    unreachableSince: isoToNs(row.unreachable_since as string | null),
    runs: Number(row.runs),
    prunedAt: isoToNs(row.pruned_at as string | null),
    lastRunAt: (row.last_run_at as string | null) ?? null,
    lastError: (row.last_error as string | null) ?? null,
  };
}

/**
 * Takes the facility's lease for `ttlMs` if it is free, expired, or already ours (one
 * statement, so two runners cannot both win).
 * @returns whether `holder` now holds it
 */
export async function acquireLease(db: Client, facility: string, holder: string, ttlMs: number, nowMs: number): Promise<boolean> {
  const r = await withBusyRetry(() =>
    db.execute({
      sql: `INSERT INTO uptime_leases (facility, holder, expires_at, acquired_at) VALUES (?1, ?2, ?3, ?4)
            ON CONFLICT (facility) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at, acquired_at = excluded.acquired_at
            WHERE uptime_leases.expires_at <= ?5 OR uptime_leases.holder = excluded.holder`,
      args: [facility, holder, nowMs + ttlMs, new Date(nowMs).toISOString(), nowMs],
    }),
  );
  return r.rowsAffected === 1;
}

/** Gives the lease back (only if `holder` still holds it). */
export async function releaseLease(db: Client, facility: string, holder: string): Promise<void> {
  await withBusyRetry(() => db.execute({ sql: 'DELETE FROM uptime_leases WHERE facility = ? AND holder = ?', args: [facility, holder] }));
}

/** What one run writes. */
export interface RunWrite {
  transitions: Transition[];
  samples: { app: string; state: AppState }[];
  /** Time of the samples (ns). */
  sampledAt: bigint;
  checkpoint: {
    checkpointAt: bigint | null;
    anchor: Anchor | null;
    snapshot: Snapshot;
    unreachableSince: bigint | null;
    lastError: string | null;
  };
}

/** Why a commit was refused. */
export type CommitRefusal = 'lost-lease' | 'checkpoint-moved';

/**
 * Writes a run in ONE write transaction: its transitions, its samples and the new checkpoint,
 * after checking that `holder` still holds the lease and that the checkpoint is still the one
 * the run started from (`runs === expectRuns`). A crash or a refusal leaves nothing written.
 * @returns `null` when committed, else why it was refused
 */
export async function commitRun(db: Client, facility: string, holder: string, expectRuns: number, w: RunWrite, nowIso: string): Promise<CommitRefusal | null> {
  return withBusyRetry(async () => {
    const tx = await db.transaction('write');
    try {
      const lease = await tx.execute({ sql: 'SELECT holder FROM uptime_leases WHERE facility = ?', args: [facility] });
      if (lease.rows[0]?.holder !== holder) {
        await tx.rollback();
        return 'lost-lease';
      }
      const cp = await tx.execute({ sql: 'SELECT runs FROM uptime_checkpoints WHERE facility = ?', args: [facility] });
      const runs = cp.rows[0] ? Number(cp.rows[0].runs) : 0;
      if (runs !== expectRuns) {
        await tx.rollback();
        return 'checkpoint-moved';
      }
      const stmts: InStatement[] = [];
      for (const t of w.transitions) {
        stmts.push({
          sql: 'INSERT INTO uptime_transitions (facility, app, at, state, source, action, container_id) VALUES (?, ?, ?, ?, ?, ?, ?)',
          args: [facility, t.app, nsToIso(t.at), t.state, t.source, t.action ?? null, t.containerId ?? null],
        });
      }
      const sampledAt = nsToIso(w.sampledAt);
      for (const s of w.samples) {
        stmts.push({ sql: 'INSERT OR REPLACE INTO uptime_samples (facility, app, at, state) VALUES (?, ?, ?, ?)', args: [facility, s.app, sampledAt, s.state] });
      }
      const c = w.checkpoint;
      stmts.push({
        sql: `INSERT INTO uptime_checkpoints (facility, checkpoint_at, anchor, snapshot, unreachable_since, runs, last_run_at, last_error)
              VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
              ON CONFLICT (facility) DO UPDATE SET checkpoint_at = ?2, anchor = ?3, snapshot = ?4, unreachable_since = ?5, runs = ?6, last_run_at = ?7, last_error = ?8`,
        args: [
          facility,
          c.checkpointAt === null ? null : nsToIso(c.checkpointAt),
          c.anchor ? JSON.stringify(c.anchor) : null,
          JSON.stringify(c.snapshot),
          c.unreachableSince === null ? null : nsToIso(c.unreachableSince),
          expectRuns + 1,
          nowIso,
          c.lastError,
        ],
      });
      await tx.batch(stmts);
      await tx.commit();
      return null;
    } finally {
      tx.close();
    }
  });
}

/**
 * Retention: deletes the facility's samples and transitions older than `cutoff`. An app that
 * still has history after the cutoff keeps its state at the cutoff as one transition at exactly
 * the cutoff (source `retention`), so its history stays readable from there; an app with nothing
 * after the cutoff (deleted longer ago than the retention) disappears entirely.
 * @returns rows deleted
 */
export async function pruneFacility(db: Client, facility: string, cutoff: bigint, nowIso: string): Promise<{ samples: number; transitions: number }> {
  const cut = nsToIso(cutoff);
  return withBusyRetry(async () => {
    const tx = await db.transaction('write');
    try {
      const apps = await tx.execute({ sql: 'SELECT DISTINCT app FROM uptime_transitions WHERE facility = ? AND at < ?', args: [facility, cut] });
      let samples = 0;
      let transitions = 0;
      for (const row of apps.rows) {
        const app = row.app as string;
        const last = await tx.execute({
          sql: 'SELECT state FROM uptime_transitions WHERE facility = ? AND app = ? AND at < ? ORDER BY at DESC LIMIT 1',
          args: [facility, app, cut],
        });
        const later = await tx.execute({
          sql: `SELECT EXISTS (SELECT 1 FROM uptime_transitions WHERE facility = ?1 AND app = ?2 AND at >= ?3)
                    OR EXISTS (SELECT 1 FROM uptime_samples WHERE facility = ?1 AND app = ?2 AND at >= ?3) AS later`,
          args: [facility, app, cut],
        });
        const d = await tx.execute({ sql: 'DELETE FROM uptime_transitions WHERE facility = ? AND app = ? AND at < ?', args: [facility, app, cut] });
        transitions += d.rowsAffected;
        if (Number(later.rows[0].later) && last.rows[0]) {
          const kept = await tx.execute({
            sql: "INSERT OR IGNORE INTO uptime_transitions (facility, app, at, state, source, action) VALUES (?, ?, ?, ?, 'retention', 'retention')",
            args: [facility, app, cut, last.rows[0].state as string],
          });
          transitions -= kept.rowsAffected;
        }
      }
      // Samples: per app through the primary key (apps without transitions before the cutoff included).
      const sampleApps = await tx.execute({ sql: 'SELECT DISTINCT app FROM uptime_transitions WHERE facility = ?', args: [facility] });
      const names = new Set([...apps.rows, ...sampleApps.rows].map((r) => r.app as string));
      for (const app of names) {
        const d = await tx.execute({ sql: 'DELETE FROM uptime_samples WHERE facility = ? AND app = ? AND at < ?', args: [facility, app, cut] });
        samples += d.rowsAffected;
      }
      await tx.execute({ sql: 'UPDATE uptime_checkpoints SET pruned_at = ? WHERE facility = ?', args: [nowIso, facility] });
      await tx.commit();
      return { samples, transitions };
    } finally {
      tx.close();
    }
  });
}

/** A stored transition as read back. */
export interface StoredTransition {
  at: string;
  state: AppState;
  source: TransitionSource;
  action: string | null;
}

/** What the summary needs of one app in a window. */
export interface AppHistory {
  /** The last transition before the window (the state at its start), if any. */
  before: StoredTransition | null;
  transitions: StoredTransition[];
  /** The samples in time order (parsed from {@link AppHistory.sampleText} when first read). */
  readonly samples: { at: string; state: AppState }[];
  /** The samples as the database answered them: `at state` lines, normally in time order. */
  sampleText: string;
  checkpoint: Checkpoint | null;
  /** Whether the app has any record at all in this facility. */
  known: boolean;
}

/** Reads one app's history in `[from, to]` (ISO text bounds). */
export async function readAppHistory(db: Client, facility: string, app: string, from: string, to: string): Promise<AppHistory> {
  const [before, transitions, samples, known, checkpoint] = await withBusyRetry(() =>
    db.batch(
      [
        { sql: 'SELECT at, state, source, action FROM uptime_transitions WHERE facility = ? AND app = ? AND at < ? ORDER BY at DESC LIMIT 1', args: [facility, app, from] },
        { sql: 'SELECT at, state, source, action FROM uptime_transitions WHERE facility = ? AND app = ? AND at >= ? AND at <= ? ORDER BY at', args: [facility, app, from, to] },
        // One text of `at state` lines: a month of one-minute samples is 43,200 rows, and one
        // string is ~5x faster to read than as many row objects.
        // (An ordered subquery, not `group_concat(… ORDER BY …)`: sqld's parser predates that.)
        {
          sql: "SELECT group_concat(line, char(10)) AS lines FROM (SELECT at || ' ' || state AS line FROM uptime_samples WHERE facility = ? AND app = ? AND at >= ? AND at <= ? ORDER BY at)",
          args: [facility, app, from, to],
        },
        {
          sql: `SELECT EXISTS (SELECT 1 FROM uptime_transitions WHERE facility = ?1 AND app = ?2)
                  OR EXISTS (SELECT 1 FROM uptime_samples WHERE facility = ?1 AND app = ?2) AS known`,
          args: [facility, app],
        },
        { sql: 'SELECT * FROM uptime_checkpoints WHERE facility = ?', args: [facility] },
      ],
      'read',
    ),
  );
  const tr = (r: Record<string, unknown>): StoredTransition => ({ at: r.at as string, state: r.state as AppState, source: r.source as TransitionSource, action: (r.action as string | null) ?? null });
  const sampleText = (samples.rows[0]?.lines as string | null) ?? '';
  let parsed: { at: string; state: AppState }[] | undefined;
  return {
    before: before.rows[0] ? tr(before.rows[0] as Record<string, unknown>) : null,
    transitions: transitions.rows.map((r) => tr(r as Record<string, unknown>)),
    sampleText,
    get samples() {
      parsed ??= inTimeOrder(
        sampleText
          .split('\n')
          .filter(Boolean)
          .map((l) => {
            const i = l.lastIndexOf(' ');
            return { at: l.slice(0, i), state: l.slice(i + 1) as AppState };
          }),
      );
      return parsed;
    },
    checkpoint: checkpointFromRow(facility, checkpoint.rows[0] as Record<string, unknown> | undefined),
    known: Number(known.rows[0].known) === 1,
  };
}

/** SQL does not promise an aggregate keeps its subquery's order: check (cheap), sort if not. */
function inTimeOrder<T extends { at: string }>(xs: T[]): T[] {
  for (let i = 1; i < xs.length; i++) if (xs[i].at < xs[i - 1].at) return xs.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return xs;
}
