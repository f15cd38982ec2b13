/**
 * POST /{facility}/request-image?image=REFERENCE
 * Requests an image for the facility (the spec's route). Anyone may call it, with or without a
 * token (the old web client sends none and only checks for a 2xx). The request is recorded as
 * `pending` for an admin (approve-image, deny-image), or approved at once when the facility's
 * `images.approved` or `images.autoApprove` patterns cover it; an approved image is then pulled
 * in the background (not when the Engine already has it). Requesting again counts the request
 * (per requester: first and last time, count) and, with a token, retries a failed pull.
 *
 * Without a token a request never makes the server pull by itself: it is recorded and counted
 * (202), but starts and retries no pull, and `autoApprove` does not approve it (it stays
 * `pending`; an `approved` image is recorded approved and pulled once a token's request or an
 * admin asks), unless the facility sets `images.anonymousAutoApprove: true` (then it may
 * approve and start a first pull, never a retry). Once `images.maxPendingAnonymous` (default
 * 100) unresolved records (pending, approved or pulling) come from anonymous requests
 * alone, an anonymous request for a new reference answers 429 `rate_limited` (re-requests of
 * existing records are still counted).
 *
 * 202 the request record `{facility, image, familiar, state, requestedBy, requestedAt, requests,
 * approvedBy, decidedBy, decidedAt, reason, imageId, error, pull, updatedAt}` (state `pending`,
 * `approved`, `pulling`, `pulled`, `failed` or `denied`; follow it with get-image-requests;
 * `requestedBy` is null unless the caller asked first, or an admin not acting on behalf) · 400
 * invalid reference · 404 unknown facility · 429 `rate_limited` (anonymous, beyond the cap).
 */
import { requesterOf, requestImage, viewerOf, viewOf } from '../core/images/requests.ts';
import { defineRoute, json } from '../core/route.ts';
import { imageReferenceSchema } from '../core/schemas.ts';

export default defineRoute({
  method: 'POST',
  route: 'request-image',
  summary: 'Request an image for the facility (pulled once an admin approves it)',
  access: 'public',
  query: {
    image: { schema: imageReferenceSchema, required: true, doc: 'image reference, e.g. busybox:1.36 or 127.0.0.1:5000/team/jupyter-lab:1.2 or repo@sha256:…' },
  },
  handler: async ({ facility, query, identity }) => json(viewOf(await requestImage(facility, query.image, requesterOf(identity)), viewerOf(identity)), 202),
});
