/**
 * Images a facility may run: requests, approvals and pulls, one record per facility and
 * normalised reference (`docker.io/library/busybox:latest`), kept in libSQL.
 *
 * States of a request:
 *
 * | state      | meaning | next |
 * |---|---|---|
 * | `pending`  | requested, waiting for an admin | approved, denied |
 * | `approved` | approved (by an admin, the facility's `images.autoApprove` patterns, or its `images.approved` list); the pull has not started | pulling, pulled |
 * | `pulling`  | the Engine is pulling it; `pull.progress` shows layers and bytes | pulled, failed, denied |
 * | `pulled`   | on the Engine: pulled, or already there when approved (`pull.alreadyPresent`, nothing pulled) | denied; pulled again if it disappeared and is requested or approved again |
 * | `failed`   | approved, but the pull failed; `error` holds the registry's message | requesting it again with a token, or approving it again, retries the pull |
 * | `denied`   | an admin refused it (`reason`) | approved (an admin may change their mind) |
 *
 * `create-app` may use a reference whose request is approved, pulling, pulled or failed
 * (approval is the gate; whether the image is on the Engine is create-app's 404), or that matches
 * the facility's `images.approved` patterns and was not denied. Nothing else: an empty list
 * and no approved requests means no image may run.
 *
 * Pulls run in the background of the process that approved them. One reference is pulled
 * once: concurrent requests in one process share the pull, and across processes the record's
 * `pulling` state with a heartbeat is the lease (a pull whose heartbeat is older than
 * {@link PULL_STALE_MS} is reported failed and may be retried). Registry credentials come from the
 * facility's `images.registries` and go only into the Engine's `X-Registry-Auth` header.
 *
 * Requests without a token (the old web client's) never make the server pull on their own:
 * they are recorded (and counted), but start no pull and retry none, and the `autoApprove`
 * patterns do not approve them, unless the facility sets `images.anonymousAutoApprove` (then
 * they may approve and start a first pull, never a retry). At most `images.maxPendingAnonymous`
 * unresolved records (pending, approved or pulling) may come from anonymous requests
 * alone; beyond that an anonymous request for a new reference answers 429 `rate_limited`.
 *
 * Who asked is kept per requester (`history`: first and last time, count, the reference as last
 * written), so repeating a request grows a count, not a list; the audit log has every call.
 * Callers limited to one user (user tokens, admins acting on behalf) see only the requests they
 * made themselves, and no other requester's name.
 *
 * @module
 */
import type { Client, Row } from '@libsql/client';
import { DomainError } from './errors.ts';
import { EngineError, orNotFound, registryAuthHeader } from './engine.ts';
import type { Facility } from './facility.ts';
import type { Identity } from './identity.ts';
import { PullError, PullTracker, runPull, type PullProgress } from './image-pull.ts';
import { imagePatternMatches, parseImageReference, type ImageReference } from './reference.ts';
import { env } from './runtime.ts';
import { IMAGE_REQUEST_STATES } from './schemas.ts';
import { domainDb, withBusyRetry, type Migration } from './store.ts';

export type RequestState = (typeof IMAGE_REQUEST_STATES)[number];
/** Request states that count as approved for create-app. */
const APPROVED_STATES: ReadonlySet<string> = new Set(['approved', 'pulling', 'pulled', 'failed']);

/** A `pulling` record whose heartbeat is older than this belongs to a pull that died with its process. */
export const PULL_STALE_MS = 60_000;
/** How often a running pull writes its progress (and heartbeat) at most, and at least. */
const PROGRESS_WRITE_MS = 500;
const HEARTBEAT_MS = 10_000;

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

/** Where a reference stands for create-app. */
export interface Approval {
  /** `approved`: create-app may use it; otherwise why not. */
  state: 'approved' | 'pending' | 'denied' | 'none';
  /** `config`, `auto` or an admin's name when approved. */
  by: string | null;
  /** The request record's state, `null` when it was never requested. */
  requestState: RequestState | null;
  reason: string | null;
}

const nowIso = () => new Date().toISOString();

function toRecord(r: Row): ImageRequest {
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

async function load(db: Client, facility: string, reference: string): Promise<ImageRequest | null> {
  const r = await db.execute({ sql: 'SELECT * FROM image_requests WHERE facility = ? AND reference = ?', args: [facility, reference] });
  return r.rows[0] ? toRecord(r.rows[0]) : null;
}

/** SQL condition: a pull whose process died (no heartbeat since the cutoff, the one `?`). */
const STALE_PULL = "state = 'pulling' AND (pull_heartbeat_at IS NULL OR pull_heartbeat_at < ?)";
/** The heartbeat cutoff for {@link STALE_PULL}: now minus {@link PULL_STALE_MS}. */
const staleCutoff = (): string => new Date(Date.now() - PULL_STALE_MS).toISOString();

/**
 * Marks pulls whose process died (no heartbeat for {@link PULL_STALE_MS}) as failed. Looks
 * first (a read), so that the reads calling this take no write lock when nothing is stale.
 */
async function reapStalePulls(db: Client, facility: string): Promise<void> {
  const cutoff = staleCutoff();
  const stale = await db.execute({ sql: `SELECT 1 FROM image_requests WHERE facility = ? AND ${STALE_PULL} LIMIT 1`, args: [facility, cutoff] });
  if (stale.rows.length === 0) return;
  await withBusyRetry(() =>
    db.execute({
      sql: `UPDATE image_requests SET state = 'failed', error = ?, pull_finished_at = ?, updated_at = ?, pull_id = NULL
            WHERE facility = ? AND ${STALE_PULL}`,
      args: [`the pull was interrupted (no heartbeat for ${PULL_STALE_MS / 1000} s; its process stopped); request or approve the image again to retry`, nowIso(), nowIso(), facility, cutoff],
    }),
  );
}

// --- Policy ----------------------------------------------------------------------------------

/** What the facility's config says about a reference: `config` (pre-approved), `auto` (auto-approve), or nothing. */
export function configApproval(f: Facility, ref: ImageReference): 'config' | 'auto' | null {
  const images = f.config.images;
  if (images?.approved?.some((p) => imagePatternMatches(p, ref))) return 'config';
  if (images?.autoApprove?.some((p) => imagePatternMatches(p, ref))) return 'auto';
  return null;
}

/** Where `ref` stands for create-app, from its request record (if any) and the facility's config. */
export function approvalOf(f: Facility, ref: ImageReference, record: ImageRequest | null): Approval {
  const requestState = record?.state ?? null;
  if (record?.state === 'denied') return { state: 'denied', by: record.decidedBy, requestState, reason: record.reason };
  if (record && APPROVED_STATES.has(record.state)) return { state: 'approved', by: record.approvedBy, requestState, reason: null };
  if (configApproval(f, ref) === 'config') return { state: 'approved', by: 'config', requestState, reason: null };
  if (record?.state === 'pending') return { state: 'pending', by: null, requestState, reason: null };
  return { state: 'none', by: null, requestState, reason: null };
}

/**
 * The gate of create-app.
 * @throws DomainError 403 `image_not_approved` naming the image and its request state (pending,
 *   denied with its reason, or never requested)
 */
export async function assertApproved(f: Facility, ref: ImageReference): Promise<void> {
  const db = await imagesDb();
  const record = await load(db, f.id, ref.normalized);
  const a = approvalOf(f, ref, record);
  if (a.state === 'approved') return;
  const why =
    a.state === 'pending'
      ? `its request is pending (requested at ${record?.requestedAt ?? '?'}); an admin approves it with approve-image`
      : a.state === 'denied'
        ? `its request was denied${record?.decidedBy ? ` by ${record.decidedBy}` : ''}${a.reason ? `: ${a.reason}` : ''}`
        : 'it has not been requested; request it with request-image and an admin approves it';
  throw new DomainError('image_not_approved', `Image '${ref.given}' is not approved in facility '${f.id}': ${why}`, {
    image: ref.given,
    normalized: ref.normalized,
    requestState: a.requestState,
    ...(a.reason ? { reason: a.reason } : {}),
  });
}

// --- Requests and decisions ------------------------------------------------------------------

/** Options of {@link requestImage} and {@link approveImage}. */
interface ActOptions {
  /** Wait for the pull's claim (state `pulling` or `pulled`) before answering (default true). */
  awaitClaim?: boolean;
}

/** Who asks for an image: a user's or token's name, or an anonymous caller (no token). */
export interface Requester {
  name: string;
  anonymous: boolean;
}

/** The caller of a route as a requester: the user it acts for, else its token's name; or anonymous. */
export function requesterOf(identity: Identity): Requester {
  if (identity.role === 'anonymous') return { name: 'anonymous', anonymous: true };
  return { name: identity.onBehalfOf ?? identity.scopeUser ?? identity.name, anonymous: false };
}

/** The caller's view of request records: everything for an admin not acting on behalf, else their own (see {@link Viewer}). */
export function viewerOf(identity: Identity): Viewer {
  return identity.role === 'admin' && identity.scopeUser === undefined ? undefined : requesterOf(identity);
}

/** The requester key of the requesters table: the name, or '' for anonymous callers (no user is named ''). */
const requesterKey = (who: Requester) => (who.anonymous ? '' : who.name);

/** Which pulls a request or approval may start: any (tokens, admins), a first one only, or none. */
type PullRight = 'any' | 'first' | 'none';

/**
 * Records a request for `ref` by `who` (`pending`), or approves it at once when the facility's
 * config pre-approves or auto-approves it; an approved image is then pulled (unless the Engine
 * has it). Requesting again counts the request, and retries a failed pull or re-pulls a pulled
 * image that has gone from the Engine; a pending or denied request stays as it is.
 *
 * An anonymous request starts no pull and is not auto-approved, unless the facility's
 * `images.anonymousAutoApprove` allows it (then it may start a first pull, never a retry); it
 * may not add a new record once `images.maxPendingAnonymous` unresolved records come from
 * anonymous requests alone.
 * @returns the record after the request (state `pulling` while a pull runs)
 * @throws DomainError 429 `rate_limited` for an anonymous request of a new reference beyond the cap
 */
export async function requestImage(f: Facility, ref: ImageReference, who: Requester, opts: ActOptions = {}): Promise<ImageRequest> {
  const db = await imagesDb();
  await reapStalePulls(db, f.id);
  const anonymousMayPull = f.config.images?.anonymousAutoApprove === true;
  const configPolicy = configApproval(f, ref);
  const policy = configPolicy === 'auto' && who.anonymous && !anonymousMayPull ? null : configPolicy;
  // Anonymous requests: at most `cap` unresolved records may come from them alone (a re-request
  // of an existing record is always counted).
  const cap = who.anonymous ? (f.config.images?.maxPendingAnonymous ?? 100) : null;
  const now = nowIso();
  // One batch (not an interactive transaction): it runs without yielding, so concurrent
  // requests in this process never wait on each other's open transaction, and the cap's count
  // and the insert are one atomic step.
  const [upsert] = await withBusyRetry(() =>
    db.batch(
      [
        {
          sql: `INSERT INTO image_requests (facility, reference, familiar, state, requested_by, requested_at, last_requested_at, request_count, approved_by, decided_at, anonymous_only, created_at, updated_at)
                SELECT ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?
                WHERE ? IS NULL
                  OR EXISTS (SELECT 1 FROM image_requests WHERE facility = ? AND reference = ?)
                  OR (SELECT COUNT(*) FROM image_requests WHERE facility = ? AND anonymous_only = 1 AND state IN ('pending', 'approved', 'pulling')) < ?
                ON CONFLICT (facility, reference) DO UPDATE SET
                  request_count = request_count + 1,
                  last_requested_at = excluded.last_requested_at,
                  requested_by = COALESCE(requested_by, excluded.requested_by),
                  requested_at = COALESCE(requested_at, excluded.requested_at),
                  approved_by = CASE WHEN state = 'pending' AND excluded.state = 'approved' THEN excluded.approved_by ELSE approved_by END,
                  decided_at = CASE WHEN state = 'pending' AND excluded.state = 'approved' THEN excluded.decided_at ELSE decided_at END,
                  state = CASE WHEN state = 'pending' AND excluded.state = 'approved' THEN 'approved' ELSE state END,
                  anonymous_only = MIN(anonymous_only, excluded.anonymous_only),
                  updated_at = excluded.updated_at`,
          args: [
            f.id, ref.normalized, ref.familiar, policy ? 'approved' : 'pending', who.name, now, now, policy, policy ? now : null, who.anonymous ? 1 : 0, now, now,
            cap, f.id, ref.normalized, f.id, cap,
          ],
        },
        {
          sql: `INSERT INTO image_request_requesters (facility, reference, requester, given, first_at, last_at, count)
                SELECT ?, ?, ?, ?, ?, ?, 1 WHERE EXISTS (SELECT 1 FROM image_requests WHERE facility = ? AND reference = ?)
                ON CONFLICT (facility, reference, requester) DO UPDATE SET count = count + 1, last_at = excluded.last_at, given = excluded.given`,
          args: [f.id, ref.normalized, requesterKey(who), ref.given, now, now, f.id, ref.normalized],
        },
      ],
      'write',
    ),
  );
  if (upsert.rowsAffected === 0) {
    throw new DomainError('rate_limited',
      `Facility '${f.id}' already has ${cap} unresolved image requests made without a token (images.maxPendingAnonymous); request '${ref.given}' with a token, or wait until an admin has decided them`,
      { limit: cap },
    );
  }
  const right: PullRight = !who.anonymous ? 'any' : anonymousMayPull ? 'first' : 'none';
  return afterDecision(f, db, ref, opts, right);
}

/**
 * An admin approves `ref` (whether requested or not, pending or denied); the image is then
 * pulled unless the Engine has it. Approving an approved image again retries a failed pull or
 * re-pulls one that has gone from the Engine.
 */
export async function approveImage(f: Facility, ref: ImageReference, by: string, opts: ActOptions = {}): Promise<ImageRequest> {
  const db = await imagesDb();
  await reapStalePulls(db, f.id);
  const now = nowIso();
  await withBusyRetry(() =>
    db.execute({
      sql: `INSERT INTO image_requests (facility, reference, familiar, state, approved_by, decided_by, decided_at, created_at, updated_at)
            VALUES (?, ?, ?, 'approved', ?, ?, ?, ?, ?)
            ON CONFLICT (facility, reference) DO UPDATE SET
              approved_by = CASE WHEN state IN ('pending', 'denied') THEN excluded.approved_by ELSE approved_by END,
              decided_by = CASE WHEN state IN ('pending', 'denied') THEN excluded.decided_by ELSE decided_by END,
              decided_at = CASE WHEN state IN ('pending', 'denied') THEN excluded.decided_at ELSE decided_at END,
              reason = CASE WHEN state IN ('pending', 'denied') THEN NULL ELSE reason END,
              state = CASE WHEN state IN ('pending', 'denied') THEN 'approved' ELSE state END,
              updated_at = excluded.updated_at`,
      args: [f.id, ref.normalized, ref.familiar, by, by, now, now, now],
    }),
  );
  return afterDecision(f, db, ref, opts);
}

/**
 * An admin denies `ref` with a reason (from any state; a running pull in this process is
 * aborted). The image is not removed from the Engine (apps may use it); create-app refuses it.
 */
export async function denyImage(f: Facility, ref: ImageReference, by: string, reason: string): Promise<ImageRequest> {
  const db = await imagesDb();
  const now = nowIso();
  await withBusyRetry(() =>
    db.execute({
      sql: `INSERT INTO image_requests (facility, reference, familiar, state, decided_by, decided_at, reason, created_at, updated_at)
            VALUES (?, ?, ?, 'denied', ?, ?, ?, ?, ?)
            ON CONFLICT (facility, reference) DO UPDATE SET
              state = 'denied', approved_by = NULL, decided_by = excluded.decided_by, decided_at = excluded.decided_at,
              reason = excluded.reason, pull_id = NULL, updated_at = excluded.updated_at`,
      args: [f.id, ref.normalized, ref.familiar, by, now, reason, now, now],
    }),
  );
  inflight.get(pullKey(f, ref))?.abort.abort('the request was denied');
  return (await load(db, f.id, ref.normalized))!;
}

/**
 * After a request or approval: start (or re-start) the pull when the record calls for one and
 * `right` allows it (`first`: only a record that was never pulled, `approved`; `none`: nothing,
 * not even a look at the Engine).
 */
async function afterDecision(f: Facility, db: Client, ref: ImageReference, opts: ActOptions, right: PullRight = 'any'): Promise<ImageRequest> {
  const reload = async () => (await load(db, f.id, ref.normalized))!;
  /** Starts a pull (or joins the one running), waits until it holds the record unless told not to, then reloads. */
  const pullThenReload = async (retry: boolean) => {
    const started = startPull(f, ref, retry);
    if (opts.awaitClaim !== false) await started.claimed;
    return reload();
  };
  let rec = await reload();
  if (right === 'none') return rec;
  if (right === 'first') return rec.state === 'approved' ? pullThenReload(false) : rec;
  // (An Engine that cannot be reached right now leaves a pulled record as it is.)
  if (rec.state === 'pulled' && (await presentImageId(f, ref).catch(() => 'unknown')) === null) {
    // Approved and pulled once, gone from the Engine since: pull it again.
    await withBusyRetry(() =>
      db.execute({
        sql: "UPDATE image_requests SET state = 'approved', image_id = NULL, updated_at = ? WHERE facility = ? AND reference = ? AND state = 'pulled'",
        args: [nowIso(), f.id, ref.normalized],
      }),
    );
    rec = await reload();
  }
  if (rec.state === 'approved' || rec.state === 'failed') rec = await pullThenReload(true);
  return rec;
}

// --- Pulls -----------------------------------------------------------------------------------

interface Inflight {
  claimed: Promise<void>;
  done: Promise<void>;
  abort: AbortController;
}
const inflight = new Map<string, Inflight>();
const pullKey = (f: Facility, ref: ImageReference) => `${f.id}\u0000${ref.normalized}`;

/** Waits until every pull this process runs has finished (tests, shutdown). */
export async function settlePulls(): Promise<void> {
  while (inflight.size > 0) await Promise.allSettled([...inflight.values()].map((p) => p.done));
}

async function presentImageId(f: Facility, ref: ImageReference): Promise<string | null> {
  const img = await orNotFound(f.engine.inspectImage(ref.normalized));
  return img ? String(img.Id) : null;
}

/**
 * The `X-Registry-Auth` value for a registry (`host[:port]`, `docker.io`) from the facility's
 * config, or `undefined` when it has no credentials for it.
 * @throws DomainError 500 when the password is to come from an environment variable that is not set
 */
export function registryAuthFor(f: Facility, domain: string): string | undefined {
  const regs = f.config.images?.registries ?? {};
  const keys = domain === 'docker.io' ? ['docker.io', 'index.docker.io', 'registry-1.docker.io'] : [domain];
  const key = keys.find((k) => Object.hasOwn(regs, k));
  if (!key) return undefined;
  const c = regs[key];
  const serveraddress = domain === 'docker.io' ? 'https://index.docker.io/v1/' : domain;
  if (c.identityToken !== undefined) return registryAuthHeader({ identitytoken: c.identityToken, serveraddress });
  const password = c.password ?? (c.passwordEnv ? env(c.passwordEnv) : undefined);
  if (password === undefined) {
    throw new DomainError('internal_error', `The credentials configured for registry ${key} take their password from the environment variable ${c.passwordEnv}, which is not set`);
  }
  return registryAuthHeader({ username: c.username, password, serveraddress });
}

/**
 * Starts the pull of an approved (or, with `retry`, a failed) reference unless one runs: in
 * this process (the same promise is shared) or in another (the record is `pulling` with a live
 * heartbeat). `claimed` resolves once the record says `pulling` or `pulled` (or another pull
 * owns it, or the record is no longer in a state this call may pull); `done` once the pull has
 * ended, its outcome in the record.
 */
function startPull(f: Facility, ref: ImageReference, retry: boolean): Inflight {
  const key = pullKey(f, ref);
  const running = inflight.get(key);
  if (running) return running;
  const abort = new AbortController();
  let markClaimed!: () => void;
  const claimed = new Promise<void>((r) => (markClaimed = r));
  const done = pull(f, ref, retry, abort.signal, () => markClaimed())
    .catch((e) => console.error(`image pull ${ref.normalized} (${f.id}):`, e instanceof Error ? e.message : e))
    .finally(() => {
      markClaimed();
      inflight.delete(key);
    });
  const entry = { claimed, done, abort };
  inflight.set(key, entry);
  return entry;
}

async function pull(f: Facility, ref: ImageReference, retry: boolean, signal: AbortSignal, claimed: () => void): Promise<void> {
  const db = await imagesDb();
  const where = 'facility = ? AND reference = ?';
  const keyArgs = [f.id, ref.normalized];
  // The states this pull may start from: a retry also takes a failed pull, or a dead one's lease.
  const from = retry ? "state IN ('approved', 'failed')" : "state = 'approved'";
  const deadLease = retry ? ` OR (${STALE_PULL})` : '';

  // Already on the Engine (built or loaded locally, pulled before): approved without a pull.
  let presentId: string | null = null;
  try {
    presentId = await presentImageId(f, ref);
  } catch {
    presentId = null; // the pull below reports why the Engine cannot be reached
  }
  if (presentId) {
    const now = nowIso();
    await withBusyRetry(() =>
      db.execute({
        sql: `UPDATE image_requests SET state = 'pulled', image_id = ?, already_present = 1, error = NULL, progress = NULL, pull_finished_at = ?, updated_at = ?
              WHERE ${where} AND ${from}`,
        args: [presentId, now, now, ...keyArgs],
      }),
    );
    return;
  }

  const pullId = crypto.randomUUID();
  const now = nowIso();
  const stale = staleCutoff();
  const tracker = new PullTracker();
  const claim = await withBusyRetry(() =>
    db.execute({
      sql: `UPDATE image_requests SET state = 'pulling', pull_id = ?, pull_started_at = ?, pull_heartbeat_at = ?, pull_finished_at = NULL,
              attempts = attempts + 1, error = NULL, image_id = NULL, already_present = 0, progress = ?, updated_at = ?
            WHERE ${where} AND (${from}${deadLease})`,
      args: [pullId, now, now, JSON.stringify(tracker.snapshot()), now, ...keyArgs, ...(retry ? [stale] : [])],
    }),
  );
  claimed();
  if (claim.rowsAffected !== 1) return; // another pull owns it, or the state changed meanwhile

  const mine = `${where} AND state = 'pulling' AND pull_id = ?`;
  let lastWrite = 0;
  let writing: Promise<unknown> = Promise.resolve();
  const writeProgress = (p: PullProgress, force = false) => {
    const t = Date.now();
    if (!force && t - lastWrite < PROGRESS_WRITE_MS) return;
    lastWrite = t;
    const at = new Date(t).toISOString();
    writing = writing.then(() =>
      withBusyRetry(() =>
        db.execute({ sql: `UPDATE image_requests SET progress = ?, pull_heartbeat_at = ?, updated_at = ? WHERE ${mine}`, args: [JSON.stringify(p), at, at, ...keyArgs, pullId] }),
      ).catch((e) => console.error(`image pull ${ref.normalized}: progress not saved:`, (e as Error).message)),
    );
  };
  const heartbeat = setInterval(() => writeProgress(tracker.snapshot(), true), HEARTBEAT_MS);

  let outcome: { ok: true; imageId: string } | { ok: false; error: string };
  try {
    const stallMs = (f.config.images?.pullStallSeconds ?? 120) * 1000;
    await runPull(f.engine, ref, { auth: registryAuthFor(f, ref.domain), stallMs, signal, onProgress: (p) => writeProgress(p) }, tracker);
    const id = await presentImageId(f, ref);
    outcome = id ? { ok: true, imageId: id } : { ok: false, error: `the Engine reported the pull complete, but has no image ${ref.normalized}` };
  } catch (e) {
    outcome = { ok: false, error: e instanceof PullError || e instanceof DomainError ? e.message : `unexpected: ${(e as Error)?.message ?? e}` };
  } finally {
    clearInterval(heartbeat);
  }
  await writing;
  const end = nowIso();
  const progress = JSON.stringify(tracker.snapshot());
  await withBusyRetry(() =>
    outcome.ok
      ? db.execute({
          sql: `UPDATE image_requests SET state = 'pulled', image_id = ?, progress = ?, pull_finished_at = ?, pull_heartbeat_at = ?, updated_at = ? WHERE ${mine}`,
          args: [outcome.imageId, progress, end, end, end, ...keyArgs, pullId],
        })
      : db.execute({
          sql: `UPDATE image_requests SET state = 'failed', error = ?, progress = ?, pull_finished_at = ?, pull_heartbeat_at = ?, updated_at = ? WHERE ${mine}`,
          args: [outcome.error, progress, end, end, end, ...keyArgs, pullId],
        }),
  );
}

// --- Reads -----------------------------------------------------------------------------------

/** One requester of a reference: who, how often, first and last time, the reference as last written. */
export interface RequesterEntry {
  /** The user's or token's name; `anonymous` for calls without a token (then `anonymous` is true). */
  by: string;
  anonymous: boolean;
  firstAt: string;
  lastAt: string;
  count: number;
  given: string;
}

/** One request with its requesters (`history`), oldest first: one entry per requester, however often they asked. */
export interface ImageRequestDetail extends ImageRequest {
  history: RequesterEntry[];
}

/**
 * Whose view of the records: `undefined` for an admin (everything); otherwise the caller,
 * who sees only the records they requested themselves (an anonymous caller: those asked for
 * without a token) and no other requester's name.
 */
export type Viewer = Requester | undefined;

/** `rec` as `viewer` may see it: `requestedBy` only when it names the viewer (else null). */
export function viewOf<T extends ImageRequest>(rec: T, viewer: Viewer): T {
  if (!viewer || rec.requestedBy === viewer.name) return rec;
  return { ...rec, requestedBy: null };
}

/** A page of {@link listImageRequests}: the records, and how many match in all. */
export interface ImageRequestPage<T extends ImageRequest = ImageRequest> {
  items: T[];
  total: number;
}

/** Default and largest page of {@link listImageRequests}. */
export const REQUESTS_PAGE = { default: 100, max: 1000 } as const;

/**
 * The facility's requests, newest first (by creation), optionally of some states or one
 * reference (then with its requesters, `history`), one page at a time (`limit`, default 100, at
 * most 1000; `offset`). A `viewer` limited to a user sees only the records they requested,
 * and in histories only their own entry.
 */
export async function listImageRequests(
  f: Facility,
  q: { states?: RequestState[]; image?: ImageReference; limit?: number; offset?: number; viewer?: Viewer } = {},
): Promise<ImageRequestPage<ImageRequest> | ImageRequestPage<ImageRequestDetail>> {
  const db = await imagesDb();
  await reapStalePulls(db, f.id);
  const where = ['r.facility = ?'];
  const args: (string | number)[] = [f.id];
  if (q.states?.length) {
    where.push(`r.state IN (${q.states.map(() => '?').join(', ')})`);
    args.push(...q.states);
  }
  if (q.image) {
    where.push('r.reference = ?');
    args.push(q.image.normalized);
  }
  const viewer = q.viewer;
  if (viewer) {
    where.push('EXISTS (SELECT 1 FROM image_request_requesters q WHERE q.facility = r.facility AND q.reference = r.reference AND q.requester = ?)');
    args.push(requesterKey(viewer));
  }
  const limit = Math.min(Math.max(1, q.limit ?? REQUESTS_PAGE.default), REQUESTS_PAGE.max);
  const offset = Math.max(0, q.offset ?? 0);
  const cond = where.join(' AND ');
  const [page, count] = await Promise.all([
    db.execute({ sql: `SELECT r.* FROM image_requests r WHERE ${cond} ORDER BY r.created_at DESC, r.reference LIMIT ? OFFSET ?`, args: [...args, limit, offset] }),
    db.execute({ sql: `SELECT COUNT(*) AS n FROM image_requests r WHERE ${cond}`, args }),
  ]);
  const total = Number(count.rows[0]?.n ?? 0);
  const records = page.rows.map((row) => viewOf(toRecord(row), viewer));
  if (!q.image) return { items: records, total };
  const items: ImageRequestDetail[] = [];
  for (const rec of records) {
    const h = await db.execute({
      sql: `SELECT requester, given, first_at, last_at, count FROM image_request_requesters
            WHERE facility = ? AND reference = ?${viewer ? ' AND requester = ?' : ''} ORDER BY first_at, requester`,
      args: viewer ? [f.id, rec.image, requesterKey(viewer)] : [f.id, rec.image],
    });
    const history = h.rows.map((x) => {
      const anonymous = String(x.requester) === '';
      return { by: anonymous ? 'anonymous' : String(x.requester), anonymous, firstAt: String(x.first_at), lastAt: String(x.last_at), count: Number(x.count), given: String(x.given) };
    });
    items.push({ ...rec, history });
  }
  return { items, total };
}

/** All request records of a facility by normalised reference (for get-images). */
export async function requestsByReference(f: Facility): Promise<Map<string, ImageRequest>> {
  const db = await imagesDb();
  const r = await db.execute({ sql: 'SELECT * FROM image_requests WHERE facility = ?', args: [f.id] });
  return new Map(r.rows.map((row) => [String(row.reference), toRecord(row)]));
}

/** Parses a reference the Engine reported (`RepoTags`/`RepoDigests`); `null` for `<none>` forms. */
export function engineReference(s: string): ImageReference | null {
  if (s.startsWith('<none>')) return null;
  try {
    return parseImageReference(s);
  } catch {
    return null;
  }
}
