/**
 * GET /{facility}/get-node-status[?hostname=HOST]
 * Nodes as `docker node ls --format json` prints them; in solo mode the Engine host as one node.
 * 200 one object with hostname (or in solo mode), else an array · 400 invalid hostname ·
 * 404 unknown facility or node · 409 two nodes share the hostname · 503/504 Engine.
 */
import { nodeStatus } from '../core/nodes.ts';
import { defineRoute, json } from '../core/route.ts';
import { hostnameSchema } from '../core/schemas.ts';

export default defineRoute({
  method: 'GET',
  route: 'get-node-status',
  summary: 'Status of nodes, as docker node ls --format json',
  access: 'admin',
  query: { hostname: { schema: hostnameSchema, doc: 'one node; omit for all' } },
  handler: async ({ facility, query }) => json(await nodeStatus(facility, query.hostname)),
});
