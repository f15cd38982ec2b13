/**
 * POST /{facility}/deny-image?image=REFERENCE&reason=TEXT
 * Denies an image for the facility (from any state, a running pull is aborted) with a reason
 * shown to whoever asked; create-app then refuses it with 403. The image is not removed from
 * the Engine (apps may still use it); approve-image can approve it later. Admins only.
 * 200 the request record (`state: "denied"`, `reason`) · 400 invalid reference or reason ·
 * 401/403 · 404 unknown facility.
 */
import { denyImage } from '../core/images/approval.ts';
import { defineRoute, json } from '../core/route.ts';
import { imageReferenceSchema, reasonSchema } from '../core/schemas.ts';

export default defineRoute({
  method: 'POST',
  route: 'deny-image',
  summary: 'Deny an image request, with a reason (admins)',
  access: 'admin',
  query: {
    image: { schema: imageReferenceSchema, required: true, doc: 'image reference to deny' },
    reason: { schema: reasonSchema, required: true, doc: 'why, shown to whoever asked (at most 500 characters)' },
  },
  handler: async ({ facility, query, identity }) => json(await denyImage(facility, query.image, identity.name, query.reason)),
});
