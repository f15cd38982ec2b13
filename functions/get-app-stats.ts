/**
 * GET /{facility}/get-app-stats[?name=IMAGE--USER[,…]]
 * Resource usage as `docker stats --no-stream --format json` (stopped apps too, like `-a`),
 * sampled concurrently (Engine `GET /containers/{id}/stats?stream=false`).
 * 200 one object for one name, else an array · 400 invalid name · 404 unknown facility or app · 503/504 Engine.
 * Swarm mode: an array with one entry per running task (`docker stats` of its container read
 * from the Engine of the task's node, plus `Service`, `Task`, `Node`); a task whose node cannot
 * be reached gets `{Service, Task, Node, error}` (207 when some entries are errors).
 */
import { batchResponse } from '../core/http.ts';
import { defineRoute } from '../core/route.ts';
import { appNamesSchema } from '../core/schemas.ts';

export default defineRoute({
  method: 'GET',
  route: 'get-app-stats',
  summary: 'Resource usage of apps, as docker stats --no-stream --format json',
  query: { name: { schema: appNamesSchema, doc: 'app name(s); omit for every app' } },
  handler: async ({ apps, query, identity }) => batchResponse(await (await apps()).stats(query.name, identity.scopeUser)),
});
