/**
 * GET /{facility}/get-image-requests[?state=pending[,failed…]][&image=REFERENCE]
 * The facility's image requests, newest first: who asked and when, the admin's decision, and
 * for pulls their progress (`pull.progress`: layers and bytes, updated while the pull runs) or
 * the registry's error. With `image`, that one reference's record with its request `history`.
 * States: pending, approved, pulling, pulled, failed, denied (core/images.ts).
 * 200 array of request records · 400 invalid state or reference · 401 · 404 unknown facility.
 */
import { listImageRequests } from '../core/images.ts';
import { defineRoute, json } from '../core/route.ts';
import { imageReferenceSchema, imageRequestStatesSchema } from '../core/schemas.ts';

export default defineRoute({
  method: 'GET',
  route: 'get-image-requests',
  summary: 'Image requests and where they stand (pull progress, errors)',
  query: {
    state: { schema: imageRequestStatesSchema, doc: 'only requests in these states: pending, approved, pulling, pulled, failed, denied (comma-separated)' },
    image: { schema: imageReferenceSchema, doc: 'only this image reference (its record with the request history)' },
  },
  handler: async ({ facility, query }) => json(await listImageRequests(facility, { states: query.state, image: query.image })),
});
