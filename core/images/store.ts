/**
 * The images domain's tables: the libSQL schema and its migrations, the request record as the
 * API answers it (row <-> record), and the lease rule for pulls whose process died (a `pulling`
 * record whose heartbeat is older than {@link PULL_STALE_MS}).
 *
 * The states a record moves through are documented in core/images/approval.ts.
 *
 * @module
 */
import type { Client, InStatement, Row } from '@libsql/client';
import type { PullProgress } from '../image-pull.ts';
import type { IMAGE_REQUEST_STATES } from '../schemas.ts';
import { domainDb, withBusyRetry, type Migration } from '../store.ts';

/** A request's state: `pending`, `approved`, `pulling`, `pulled`, `failed` or `denied`. */
export type RequestState = (typeof IMAGE_REQUEST_STATES)[number];

/** A `pulling` record whose heartbeat is older than this (ms) belongs to a pull that died with its process. */
export const PULL_STALE_MS = 60_000;

/** The images domain's schema steps (exported for the migration test). */
export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'image requests',
    sql: [
      `CREATE TABLE image_requests (
        facility TEXT NOT NULL,
        reference TEXT NOT NULL,
        familiar TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'pulling', 'pulled', 'failed', 'denied')),
        requested_by TEXT,
        requested_at TEXT,
        last_requested_at TEXT,
        request_count INTEGER NOT NULL DEFAULT 0,
        approved_by TEXT,
        decided_by TEXT,
        decided_at TEXT,
        reason TEXT,
        image_id TEXT,
        error TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        pull_id TEXT,
        pull_started_at TEXT,
        pull_heartbeat_at TEXT,
        pull_finished_at TEXT,
        already_present INTEGER,
        progress TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (facility, reference)
      )`,
      'CREATE INDEX image_requests_state ON image_requests (facility, state)',
      `CREATE TABLE image_request_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        facility TEXT NOT NULL,
        reference TEXT NOT NULL,
        given TEXT NOT NULL,
        requested_by TEXT NOT NULL,
        at TEXT NOT NULL
      )`,
      'CREATE INDEX image_request_log_ref ON image_request_log (facility, reference, at)',
    ],
  },
  {
    version: 2,
    name: 'requesters with counts instead of one log row per request; anonymous-only flag; paging index',
    sql: [
      // One row per requester of a reference: `requester` is the user or token name, '' for
      // anonymous callers; `given` the reference as they last wrote it.
      `CREATE TABLE image_request_requesters (
        facility TEXT NOT NULL,
        reference TEXT NOT NULL,
        requester TEXT NOT NULL,
        given TEXT NOT NULL,
        first_at TEXT NOT NULL,
        last_at TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (facility, reference, requester)
      )`,
      `INSERT INTO image_request_requesters (facility, reference, requester, given, first_at, last_at, count)
        SELECT l.facility, l.reference, CASE WHEN l.requested_by = 'anonymous' THEN '' ELSE l.requested_by END,
          (SELECT g.given FROM image_request_log g WHERE g.facility = l.facility AND g.reference = l.reference AND g.requested_by = l.requested_by ORDER BY g.id DESC LIMIT 1),
          MIN(l.at), MAX(l.at), COUNT(*)
        FROM image_request_log l GROUP BY l.facility, l.reference, l.requested_by`,
      // 1 while every request of the record came without a token.
      'ALTER TABLE image_requests ADD COLUMN anonymous_only INTEGER NOT NULL DEFAULT 0',
      `UPDATE image_requests SET anonymous_only = 1
        WHERE EXISTS (SELECT 1 FROM image_request_log l WHERE l.facility = image_requests.facility AND l.reference = image_requests.reference)
          AND NOT EXISTS (SELECT 1 FROM image_request_log l WHERE l.facility = image_requests.facility AND l.reference = image_requests.reference AND l.requested_by <> 'anonymous')`,
      'CREATE INDEX image_requests_created ON image_requests (facility, created_at)',
      'DROP TABLE image_request_log',
    ],
  },
];

/** The images domain's database, migrated on first use. */
export const imagesDb = domainDb('images', MIGRATIONS);

/** A request record as the API answers it (never any credential). */
export interface ImageRequest {
  facility: string;
  /** The normalised reference: the key of approvals. */
  image: string;
  /** Its short form (`busybox:latest`). */
  familiar: string;
  state: RequestState;
  /**
   * Who asked first, and when; `requests` counts every request-image call. `requestedBy` is
   * null for a caller limited to a user (or anonymous) when someone else asked first.
   */
  requestedBy: string | null;
  requestedAt: string | null;
  requests: number;
  /** `config` (the facility's approved list), `auto` (its autoApprove patterns), or the admin's name. */
  approvedBy: string | null;
  /** The admin decision (approve or deny), and a denial's reason. */
  decidedBy: string | null;
  decidedAt: string | null;
  reason: string | null;
  /** The Engine's image ID once pulled. */
  imageId: string | null;
  /** Why the last pull failed (the registry's message). */
  error: string | null;
  /** The last pull: attempts, times, progress; `alreadyPresent` when the Engine already had it. */
  pull: {
    attempts: number;
    startedAt: string | null;
    finishedAt: string | null;
    alreadyPresent: boolean;
    progress: PullProgress | null;
  } | null;
  updatedAt: string;
}

/** Now, as the ISO-8601 UTC text the tables store (millisecond precision). */
export const nowIso = (): string => new Date().toISOString();

/** A row of `image_requests` as the API answers it (`pull` is null until a pull was tried or found unnecessary). */
export function toRecord(r: Row): ImageRequest {
  const s = (k: string) => (r[k] === null || r[k] === undefined ? null : String(r[k]));
  const attempts = Number(r.attempts ?? 0);
  const alreadyPresent = Number(r.already_present ?? 0) === 1;
  let progress: PullProgress | null = null;
  try {
    progress = r.progress ? (JSON.parse(String(r.progress)) as PullProgress) : null;
  } catch {
    progress = null;
  }
  return {
    facility: String(r.facility),
    image: String(r.reference),
    familiar: String(r.familiar),
    state: String(r.state) as RequestState,
    requestedBy: s('requested_by'),
    requestedAt: s('requested_at'),
    requests: Number(r.request_count ?? 0),
    approvedBy: s('approved_by'),
    decidedBy: s('decided_by'),
    decidedAt: s('decided_at'),
    reason: s('reason'),
    imageId: s('image_id'),
    error: s('error'),
    pull: attempts > 0 || alreadyPresent ? { attempts, startedAt: s('pull_started_at'), finishedAt: s('pull_finished_at'), alreadyPresent, progress } : null,
    updatedAt: String(r.updated_at),
  };
}

/** The record of `reference` (normalised) in `facility`, or `null` when it was never requested nor decided. */
export async function loadRequest(db: Client, facility: string, reference: string): Promise<ImageRequest | null> {
  const r = await db.execute({ sql: 'SELECT * FROM image_requests WHERE facility = ? AND reference = ?', args: [facility, reference] });
  return r.rows[0] ? toRecord(r.rows[0]) : null;
}

/** SQL condition: a pull whose process died (no heartbeat since the cutoff, the one `?`). */
export const STALE_PULL = "state = 'pulling' AND (pull_heartbeat_at IS NULL OR pull_heartbeat_at < ?)";
/** The heartbeat cutoff for {@link STALE_PULL}: now minus {@link PULL_STALE_MS}, ISO-8601 UTC. */
export const staleCutoff = (): string => new Date(Date.now() - PULL_STALE_MS).toISOString();

/** The read that finds whether `facility` has a pull whose process died (one row if so); for a read batch. */
export function stalePullCheck(facility: string, cutoff: string = staleCutoff()): InStatement {
  return { sql: `SELECT 1 FROM image_requests WHERE facility = ? AND ${STALE_PULL} LIMIT 1`, args: [facility, cutoff] };
}

/**
 * Marks pulls whose process died (no heartbeat for {@link PULL_STALE_MS}) as failed. Looks
 * first (a read), so that the reads calling this take no write lock when nothing is stale.
 */
export async function reapStalePulls(db: Client, facility: string): Promise<void> {
  const cutoff = staleCutoff();
  const stale = await db.execute(stalePullCheck(facility, cutoff));
  if (stale.rows.length === 0) return;
  await withBusyRetry(() =>
    db.execute({
      sql: `UPDATE image_requests SET state = 'failed', error = ?, pull_finished_at = ?, updated_at = ?, pull_id = NULL
            WHERE facility = ? AND ${STALE_PULL}`,
      args: [`the pull was interrupted (no heartbeat for ${PULL_STALE_MS / 1000} s; its process stopped); request or approve the image again to retry`, nowIso(), nowIso(), facility, cutoff],
    }),
  );
}
