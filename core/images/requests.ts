/**
 * Image requests: who asks for what (request-image), and the listing of requests as each
 * caller may see it (get-image-requests, get-images).
 *
 * Requests without a token (the old web client's) never make the server pull on their own:
 * they are recorded (and counted), but start no pull and retry none, and the `autoApprove`
 * patterns do not approve them, unless the facility sets `images.anonymousAutoApprove` (then
 * they may approve and start a first pull, never a retry). At most `images.maxPendingAnonymous`
 * unresolved records (pending, approved or pulling) may come from anonymous requests
 * alone; beyond that an anonymous request for a new reference is refused (`rate_limited`).
 *
 * Who asked is kept per requester (`history`: first and last time, count, the reference as last
 * written), so repeating a request grows a count, not a list; the audit log has every call.
 * Callers limited to one user (user tokens, admins acting on behalf) see only the requests they
 * made themselves, and no other requester's name.
 *
 * @module
 */
import { DomainError } from '../errors.ts';
import type { Facility } from '../facility.ts';
import type { Identity } from '../identity.ts';
import type { ImageReference } from '../reference.ts';
import { withBusyRetry } from '../store.ts';
import { configApproval } from './approval.ts';
import { afterDecision, type ActOptions, type PullRight } from './pull-worker.ts';
import { imagesDb, nowIso, reapStalePulls, stalePullCheck, toRecord, type ImageRequest, type RequestState } from './store.ts';

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
 * @throws DomainError `rate_limited` for an anonymous request of a new reference beyond the cap
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
            f.id,
            ref.normalized,
            ref.familiar,
            policy ? 'approved' : 'pending',
            who.name,
            now,
            now,
            policy,
            policy ? now : null,
            who.anonymous ? 1 : 0,
            now,
            now,
            cap,
            f.id,
            ref.normalized,
            f.id,
            cap,
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
    throw new DomainError(
      'rate_limited',
      `Facility '${f.id}' already has ${cap} unresolved image requests made without a token (images.maxPendingAnonymous); request '${ref.given}' with a token, or wait until an admin has decided them`,
      { limit: cap },
    );
  }
  const right: PullRight = !who.anonymous ? 'any' : anonymousMayPull ? 'first' : 'none';
  return afterDecision(f, db, ref, opts, right);
}

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
 * and in histories only their own entry. Pulls whose process stopped are marked failed first
 * (`reaped`: already done by this call).
 */
export async function listImageRequests(
  f: Facility,
  q: { states?: RequestState[]; image?: ImageReference; limit?: number; offset?: number; viewer?: Viewer } = {},
  reaped = false,
): Promise<ImageRequestPage<ImageRequest> | ImageRequestPage<ImageRequestDetail>> {
  const db = await imagesDb();
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
  // one round trip to a libSQL server (~2-3 ms each on sqld), one snapshot: the stale-pull check,
  // the page and the count in one read batch; a stale pull (its process stopped) is marked failed
  // and the page read again
  const [stale, page, count] = await db.batch(
    [
      stalePullCheck(f.id),
      { sql: `SELECT r.* FROM image_requests r WHERE ${cond} ORDER BY r.created_at DESC, r.reference LIMIT ? OFFSET ?`, args: [...args, limit, offset] },
      { sql: `SELECT COUNT(*) AS n FROM image_requests r WHERE ${cond}`, args },
    ],
    'read',
  );
  if (stale.rows.length > 0 && !reaped) {
    await reapStalePulls(db, f.id);
    return listImageRequests(f, q, true);
  }
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
