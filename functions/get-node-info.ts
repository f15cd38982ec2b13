/**
 * GET /{facility}/get-node-info?hostname=HOST
 * The node's inspect JSON (`docker node inspect`; Engine `GET /nodes`); in solo mode the Engine's `GET /info`.
 * 200 object · 400 invalid or missing hostname · 404 unknown facility or node · 409 two nodes share the hostname · 503/504 Engine.
 */
import { nodeInfo } from '../core/nodes.ts';
import { defineRoute, json } from '../core/route.ts';
import { hostnameSchema } from '../core/schemas.ts';

export default defineRoute({
  method: 'GET',
  route: 'get-node-info',
  summary: 'Inspect JSON of one node',
  access: 'admin',
  query: { hostname: { schema: hostnameSchema, required: true, doc: 'node hostname' } },
  handler: async ({ facility, query }) => json(await nodeInfo(facility, query.hostname)),
});
