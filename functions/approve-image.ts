/**
 * POST /{facility}/approve-image?image=REFERENCE
 * Approves an image for the facility, requested or not (a denied one too), then pulls it in the
 * background unless the Engine has it. Approving an approved image again retries a failed pull
 * and re-pulls one that has gone from the Engine. Admins only.
 * 202 the request record while its pull runs (`state: "pulling"`; follow it with
 * get-image-requests) · 200 the record when nothing is left to do (`pulled`) · 400 invalid
 * reference · 401/403 · 404 unknown facility.
 */
import { approveImage } from '../core/images/approval.ts';
import { defineRoute, json } from '../core/route.ts';
import { imageReferenceSchema } from '../core/schemas.ts';

export default defineRoute({
  method: 'POST',
  route: 'approve-image',
  summary: 'Approve an image and pull it (admins)',
  access: 'admin',
  query: {
    image: { schema: imageReferenceSchema, required: true, doc: 'image reference to approve' },
  },
  handler: async ({ facility, query, identity }) => {
    const rec = await approveImage(facility, query.image, identity.name);
    return json(rec, rec.state === 'pulling' || rec.state === 'approved' ? 202 : 200);
  },
});
