/**
 * POST /{facility}/request-image?image=REFERENCE
 * Requests an image for the facility (the spec's route). Anyone may call it, with or without a
 * token (the old web client sends none and only checks for a 2xx). The request is recorded as
 * `pending` for an admin (approve-image, deny-image), or approved at once when the facility's
 * `images.approved` or `images.autoApprove` patterns cover it; an approved image is then pulled
 * in the background (not when the Engine already has it). Requesting again counts the request
 * and retries a failed pull.
 * 202 the request record `{facility, image, familiar, state, requestedBy, requestedAt, requests,
 * approvedBy, decidedBy, decidedAt, reason, imageId, error, pull, updatedAt}` (state `pending`,
 * `pulling`, `pulled`, `failed` or `denied`; follow it with get-image-requests) · 400 invalid
 * reference · 404 unknown facility.
 */
import { requestImage } from '../core/images.ts';
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
  handler: async ({ facility, query, identity }) =>
    json(await requestImage(facility, query.image, identity.onBehalfOf ?? identity.scopeUser ?? identity.name), 202),
});
