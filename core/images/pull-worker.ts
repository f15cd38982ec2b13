/**
 * Background pulls of approved images, in the process that approved them. One reference is
 * pulled once: concurrent requests in one process share the pull, and across processes the
 * record's `pulling` state with a heartbeat is the lease (a pull whose heartbeat is older than
 * `PULL_STALE_MS`, core/images/store.ts, is reported failed and may be retried). The pull itself (Engine
 * `POST /images/create`, read to its end) is core/image-pull.ts; registry credentials come from
 * core/images/registry-auth.ts.
 *
 * @module
 */
import { countPull } from '../metrics.ts';
import { log } from '../log.ts';
import type { Client } from '@libsql/client';
import { orNotFound } from '../engine.ts';
import { DomainError } from '../errors.ts';
import type { Facility } from '../facility.ts';
import { PullError, PullTracker, runPull, type PullProgress } from '../image-pull.ts';
import type { ImageReference } from '../reference.ts';
import { withBusyRetry } from '../store.ts';
import { registryAuthFor } from './registry-auth.ts';
import { imagesDb, loadRequest, nowIso, STALE_PULL, staleCutoff, type ImageRequest } from './store.ts';

/** How often a running pull writes its progress (and heartbeat) at most, and at least (ms). */
const PROGRESS_WRITE_MS = 500;
const HEARTBEAT_MS = 10_000;

/** Options of a request or approval (core/images/requests.ts `requestImage`, core/images/approval.ts `approveImage`). */
export interface ActOptions {
  /** Wait for the pull's claim (state `pulling` or `pulled`) before answering (default true). */
  awaitClaim?: boolean;
}

/** Which pulls a request or approval may start: any (tokens, admins), a first one only, or none. */
export type PullRight = 'any' | 'first' | 'none';

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

/** Aborts the pull of `ref` this process runs, if any (`reason` becomes the abort reason); the pull records its own end. */
export function abortPull(f: Facility, ref: ImageReference, reason: string): void {
  inflight.get(pullKey(f, ref))?.abort.abort(reason);
}

/** The Engine's ID of `ref` (`GET /images/{name}/json`), or `null` when the Engine does not have it. */
async function presentImageId(f: Facility, ref: ImageReference): Promise<string | null> {
  const img = await orNotFound(f.engine.inspectImage(ref.normalized));
  return img ? String(img.Id) : null;
}

/**
 * After a request or approval: start (or re-start) the pull when the record calls for one and
 * `right` allows it (`first`: only a record that was never pulled, `approved`; `none`: nothing,
 * not even a look at the Engine).
 * @returns the record, reloaded after the pull's claim (unless `opts.awaitClaim` is false)
 */
export async function afterDecision(f: Facility, db: Client, ref: ImageReference, opts: ActOptions, right: PullRight = 'any'): Promise<ImageRequest> {
  const reload = async () => (await loadRequest(db, f.id, ref.normalized))!;
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
    .catch((e) => log('images').error('image pull {image} ({facility}): {error}', { image: ref.normalized, facility: f.id, error: e instanceof Error ? e.message : e }))
    .finally(() => {
      markClaimed();
      inflight.delete(key);
    });
  const entry = { claimed, done, abort };
  inflight.set(key, entry);
  return entry;
}

/** The record of one reference in SQL: its `WHERE` condition and the condition's arguments. */
interface RecordKey {
  db: Client;
  where: string;
  args: string[];
}

/** How a pull ended: the Engine's image ID, or the registry's (or Engine's) message. */
type PullOutcome = { ok: true; imageId: string } | { ok: false; error: string };

/**
 * One pull of `ref`, its outcome written to the record: already on the Engine (no pull), or
 * claimed (the lease), run with progress and heartbeats, then `pulled` or `failed`. `claimed`
 * is called once this pull holds the record, or knows it never will.
 */
async function pull(f: Facility, ref: ImageReference, retry: boolean, signal: AbortSignal, claimed: () => void): Promise<void> {
  const rec: RecordKey = { db: await imagesDb(), where: 'facility = ? AND reference = ?', args: [f.id, ref.normalized] };
  // The states this pull may start from: a retry also takes a failed pull, or a dead one's lease.
  const from = retry ? "state IN ('approved', 'failed')" : "state = 'approved'";
  if (await recordIfAlreadyPresent(f, ref, rec, from)) return countPull('already_present');

  const tracker = new PullTracker();
  const pullId = await claimPull(rec, from, retry, tracker.snapshot());
  claimed();
  if (pullId === null) return; // another pull owns it, or the state changed meanwhile

  const mine: RecordKey = { ...rec, where: `${rec.where} AND state = 'pulling' AND pull_id = ?`, args: [...rec.args, pullId] };
  const progress = progressWriter(mine, ref);
  const heartbeat = setInterval(() => progress.write(tracker.snapshot(), true), HEARTBEAT_MS);
  let outcome: PullOutcome;
  try {
    outcome = await pullAndInspect(f, ref, signal, tracker, (p) => progress.write(p));
  } finally {
    clearInterval(heartbeat);
  }
  await progress.flushed();
  countPull(outcome.ok ? 'pulled' : 'failed');
  await recordOutcome(mine, outcome, tracker.snapshot());
}

/**
 * Already on the Engine (built or loaded locally, pulled before): the record becomes `pulled`
 * without a pull (when it is still in a state `from` allows).
 * @returns whether the Engine had the image (then nothing is to be pulled)
 */
async function recordIfAlreadyPresent(f: Facility, ref: ImageReference, rec: RecordKey, from: string): Promise<boolean> {
  let presentId: string | null = null;
  try {
    presentId = await presentImageId(f, ref);
  } catch {
    presentId = null; // the pull reports why the Engine cannot be reached
  }
  if (!presentId) return false;
  const now = nowIso();
  await withBusyRetry(() =>
    rec.db.execute({
      sql: `UPDATE image_requests SET state = 'pulled', image_id = ?, already_present = 1, error = NULL, progress = NULL, pull_finished_at = ?, updated_at = ?
            WHERE ${rec.where} AND ${from}`,
      args: [presentId, now, now, ...rec.args],
    }),
  );
  return true;
}

/**
 * Takes the lease: the record becomes `pulling` under a new pull ID, if it is in a state `from`
 * allows (or, on a retry, belongs to a pull whose process died).
 * @returns the pull ID, or `null` when another pull owns the record or its state changed
 */
async function claimPull(rec: RecordKey, from: string, retry: boolean, start: PullProgress): Promise<string | null> {
  const deadLease = retry ? ` OR (${STALE_PULL})` : '';
  const pullId = crypto.randomUUID();
  const now = nowIso();
  const stale = staleCutoff();
  const claim = await withBusyRetry(() =>
    rec.db.execute({
      sql: `UPDATE image_requests SET state = 'pulling', pull_id = ?, pull_started_at = ?, pull_heartbeat_at = ?, pull_finished_at = NULL,
              attempts = attempts + 1, error = NULL, image_id = NULL, already_present = 0, progress = ?, updated_at = ?
            WHERE ${rec.where} AND (${from}${deadLease})`,
      args: [pullId, now, now, JSON.stringify(start), now, ...rec.args, ...(retry ? [stale] : [])],
    }),
  );
  return claim.rowsAffected === 1 ? pullId : null;
}

/**
 * Writes a running pull's progress and heartbeat to its record, at most every
 * {@link PROGRESS_WRITE_MS} unless forced (the heartbeat), one write after the other.
 */
function progressWriter(mine: RecordKey, ref: ImageReference): { write: (p: PullProgress, force?: boolean) => void; flushed: () => Promise<unknown> } {
  let lastWrite = 0;
  let writing: Promise<unknown> = Promise.resolve();
  const write = (p: PullProgress, force = false) => {
    const t = Date.now();
    if (!force && t - lastWrite < PROGRESS_WRITE_MS) return;
    lastWrite = t;
    const at = new Date(t).toISOString();
    writing = writing.then(() =>
      withBusyRetry(() =>
        mine.db.execute({ sql: `UPDATE image_requests SET progress = ?, pull_heartbeat_at = ?, updated_at = ? WHERE ${mine.where}`, args: [JSON.stringify(p), at, at, ...mine.args] }),
      ).catch((e) => log('images').warn('image pull {image}: progress not saved: {error}', { image: ref.normalized, error: (e as Error).message })),
    );
  };
  return { write, flushed: () => writing };
}

/** Runs the pull on the Engine (`POST /images/create`) and looks the image up afterwards; never throws. */
async function pullAndInspect(f: Facility, ref: ImageReference, signal: AbortSignal, tracker: PullTracker, onProgress: (p: PullProgress) => void): Promise<PullOutcome> {
  try {
    const stallMs = (f.config.images?.pullStallSeconds ?? 120) * 1000;
    await runPull(f.engine, ref, { auth: registryAuthFor(f, ref.domain), stallMs, signal, onProgress }, tracker);
    const id = await presentImageId(f, ref);
    return id ? { ok: true, imageId: id } : { ok: false, error: `the Engine reported the pull complete, but has no image ${ref.normalized}` };
  } catch (e) {
    return { ok: false, error: e instanceof PullError || e instanceof DomainError ? e.message : `unexpected: ${(e as Error)?.message ?? e}` };
  }
}

/**
 * Writes how the pull ended (`pulled` with the image ID, or `failed` with the message) to the
 * record it still holds. A failed pull's progress status is `Failed` (the reason is in `error`),
 * never the last stream line (e.g. `Waiting for the Engine` when the Engine refused at once).
 */
async function recordOutcome(mine: RecordKey, outcome: PullOutcome, last: PullProgress): Promise<void> {
  const end = nowIso();
  const progress = JSON.stringify(outcome.ok ? last : { ...last, status: 'Failed' });
  await withBusyRetry(() =>
    outcome.ok
      ? mine.db.execute({
          sql: `UPDATE image_requests SET state = 'pulled', image_id = ?, progress = ?, pull_finished_at = ?, pull_heartbeat_at = ?, updated_at = ? WHERE ${mine.where}`,
          args: [outcome.imageId, progress, end, end, end, ...mine.args],
        })
      : mine.db.execute({
          sql: `UPDATE image_requests SET state = 'failed', error = ?, progress = ?, pull_finished_at = ?, pull_heartbeat_at = ?, updated_at = ? WHERE ${mine.where}`,
          args: [outcome.error, progress, end, end, end, ...mine.args],
        }),
  );
}
