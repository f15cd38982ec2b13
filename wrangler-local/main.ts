/**
 * `npm start`: the local function runner. Serves every function on one port
 * (`HOST`, default 127.0.0.1; `PORT`, default 8080) and fires the schedules.
 */
import { serve } from '@hono/node-server';
import { loadConfig } from '../core/config.ts';
import { env } from '../core/runtime.ts';
import { buildApp } from './app.ts';
import { bootstrapAdmin } from '../core/auth.ts';

const config = loadConfig();
const admin = await bootstrapAdmin();
if (admin.created) {
  console.log(`Created the first admin token (shown once; also written to ${admin.file}, mode 0600):\n  ${admin.created}`);
}
const host = env('HOST') ?? '127.0.0.1';
const port = Number(env('PORT') ?? 8080);
const app = buildApp();

const server = serve({ fetch: app.fetch, hostname: host, port }, (info) => {
  console.log(`SRC Container API listening on http://${host}:${info.port}/ (config: ${config.source}; facilities: ${Object.keys(config.facilities).join(', ')})`);
});

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    server.close();
    process.exit(0);
  });
}
