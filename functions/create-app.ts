/**
 * POST /{facility}/create-app?image=REFERENCE&user=USER[&memory=512m][&cpus=0.5][&pids=200]
 * Creates (does not start) the app IMAGE--USER from an image on the Engine, its exposed ports
 * published on the facility's publish host, under the facility's create policy (Engine
 * `POST /containers/create`).
 * Only from an image approved in the facility (request-image, approve-image, or the facility's
 * `images.approved` patterns).
 * 201 `{name, id, state: "created", image, imageId, ports, url}` (url: where the gateway serves it, see get-app-url) · 400 invalid image/user/limits,
 * a limit above the policy's maximum, or a name longer than 63 · 403 `image_not_approved`
 * naming the image and its request state (pending, denied, never requested; checked before
 * 404 and 409) · 404 unknown facility or image not on the Engine · 409 app exists (names the
 * existing app's image reference) · 503/504 Engine.
 * Swarm mode: creates the service IMAGE--USER, started at once (a replicated job by default,
 * core/services.ts): 201 `{name, id, state: "pending", image, imageId, ports, mode, replicas}`;
 * 400 also when IMAGE--USER breaks Docker's service-name rule (no dots; letters, digits, '-', '_').
 */
import { assertApproved } from '../core/images/approval.ts';
import { appNameFor } from '../core/naming.ts';
import { appAddress } from '../core/gateway/url.ts';
import { loadConfig } from '../core/config.ts';
import { defineRoute, json } from '../core/route.ts';
import { cpusSchema, imageReferenceSchema, memorySchema, pidsSchema, userSchema } from '../core/schemas.ts';

export default defineRoute({
  method: 'POST',
  route: 'create-app',
  summary: 'Create the app IMAGE--USER from an image (not started)',
  query: {
    image: { schema: imageReferenceSchema, required: true, doc: 'image reference, e.g. busybox:latest or 127.0.0.1:5000/team/jupyter-lab:1.2' },
    user: { schema: userSchema, required: true, doc: "user name: letters, digits, '-', '_'; no '--'; at most 32" },
    memory: { schema: memorySchema, doc: "memory limit, e.g. 512m or 2g (default and maximum: the facility's policy)" },
    cpus: { schema: cpusSchema, doc: "CPUs, e.g. 0.5 (default and maximum: the facility's policy)" },
    pids: { schema: pidsSchema, doc: "maximum processes (default and maximum: the facility's policy)" },
  },
  handler: async ({ facility, query, apps }) => {
    const backend = await apps();
    const name = appNameFor(query.image, query.user); // 400 for an over-long name before the approval check
    backend.assertCreatable(name, query.image, query.user); // 400: the mode's name rules (swarm: Docker's service-name rule)
    await assertApproved(facility, query.image); // 403 before the Engine is asked (404, 409)
    const created = await backend.create(query.image, query.user, { memory: query.memory, cpus: query.cpus, pids: query.pids });
    return json({ ...created, url: (await appAddress(loadConfig().gateway, facility.id, created.name)).url }, 201); // url: where the gateway serves it
  },
});
