/**
 * GET /{facility}/get-node-names
 * Hostnames of the swarm's nodes (Engine `GET /nodes`); in solo mode the Engine host's name.
 * 200 array of hostnames · 404 unknown facility · 503/504 Engine.
 */
import { nodeNames } from '../core/nodes.ts';
import { defineRoute, json } from '../core/route.ts';

export default defineRoute({
  method: 'GET',
  route: 'get-node-names',
  summary: 'Hostnames of all nodes',
  access: 'admin',
  query: {},
  handler: async ({ facility }) => json(await nodeNames(facility)),
});
