/**
 * GET /{facility}/get-image-requests[?state=pending[,failed…]][&image=REFERENCE][&limit=100][&offset=0]
 * The facility's image requests, newest first (by when each record was created), one page at a
 * time: `limit` (default 100, at most 1000) records after skipping `offset`; the
 * `X-Total-Count` header says how many match in all. Each record says who asked first and
 * when, the admin's decision, and for pulls their progress (`pull.progress`: layers and bytes,
 * updated while the pull runs) or the registry's error. With `image`, that one reference's
 * record with its requesters (`history`: one entry per requester `{by, anonymous, firstAt,
 * lastAt, count, given}`, oldest first).
 * States: pending, approved, pulling, pulled, failed, denied (core/images/approval.ts).
 * User tokens (and admins acting on behalf of a user) see only the requests that user made,
 * and no other requester's name: `requestedBy` is null unless it is theirs, and `history`
 * holds only their own entry.
 * 200 array of request records · 400 invalid state, reference, limit or offset · 401 · 404 unknown facility.
 */
import { listImageRequests, viewerOf } from '../core/images/requests.ts';
import { defineRoute, json } from '../core/route.ts';
import { imageReferenceSchema, imageRequestStatesSchema, pageLimitSchema, pageOffsetSchema } from '../core/schemas.ts';

export default defineRoute({
  method: 'GET',
  route: 'get-image-requests',
  summary: 'Image requests and where they stand (pull progress, errors)',
  query: {
    state: { schema: imageRequestStatesSchema, doc: 'only requests in these states: pending, approved, pulling, pulled, failed, denied (comma-separated)' },
    image: { schema: imageReferenceSchema, doc: 'only this image reference (its record with the request history)' },
    limit: { schema: pageLimitSchema, doc: 'at most this many records, newest first (default 100, at most 1000)' },
    offset: { schema: pageOffsetSchema, doc: 'skip this many records first (default 0); X-Total-Count says how many match' },
  },
  handler: async ({ facility, query, identity }) => {
    const page = await listImageRequests(facility, { states: query.state, image: query.image, limit: query.limit, offset: query.offset, viewer: viewerOf(identity) });
    return json(page.items, 200, { 'x-total-count': String(page.total) });
  },
});
