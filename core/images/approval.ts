/**
 * The approval state machine of images a facility may run: what the facility's config
 * pre-approves, an admin's approve and deny, and the gate of create-app. One record per facility
 * and normalised reference (`docker.io/library/busybox:latest`), kept in libSQL
 * (core/images/store.ts).
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
 * Requests (core/images/requests.ts) create `pending` records or approve by policy; pulls
 * (core/images/pull-worker.ts) move an approved record through `pulling` to `pulled` or
 * `failed`.
 *
 * @module
 */
import { DomainError } from '../errors.ts';
import type { Facility } from '../facility.ts';
import { imagePatternMatches, type ImageReference } from '../reference.ts';
import { withBusyRetry } from '../store.ts';
import { abortPull, afterDecision, type ActOptions } from './pull-worker.ts';
import { imagesDb, loadRequest, nowIso, reapStalePulls, type ImageRequest, type RequestState } from './store.ts';

/** Request states that count as approved for create-app. */
const APPROVED_STATES: ReadonlySet<string> = new Set(['approved', 'pulling', 'pulled', 'failed']);

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
 * The gate of create-app: returns when `ref` is approved in the facility (see {@link approvalOf}).
 * @throws DomainError `image_not_approved` naming the image and its request state (pending,
 *   denied with its reason, or never requested)
 */
export async function assertApproved(f: Facility, ref: ImageReference): Promise<void> {
  const db = await imagesDb();
  const record = await loadRequest(db, f.id, ref.normalized);
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

/**
 * An admin approves `ref` (whether requested or not, pending or denied); the image is then
 * pulled unless the Engine has it. Approving an approved image again retries a failed pull or
 * re-pulls one that has gone from the Engine.
 * @returns the record after the approval (state `pulling` while a pull runs, unless `opts.awaitClaim` is false)
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
 * @returns the denied record
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
  abortPull(f, ref, 'the request was denied');
  return (await loadRequest(db, f.id, ref.normalized))!;
}
