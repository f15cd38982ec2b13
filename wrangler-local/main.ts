/**
 * `npm start`: the local function runner. Serves every function on one port
 * (`HOST`, default 127.0.0.1; `PORT`, default 8080) and fires the schedules.
 * Requests for apps' hosts go to the embedded gateway (wrangler-local/gateway.ts).
 * Limits: URL 8 KiB (414), headers 16 KiB (431), body 64 KiB (413), `SRC_RATE_LIMIT`
 * requests per minute per token (default 600; 0 disables), all answered as problem+json.
 */
import { loadConfig } from '../core/config.ts';
import { env } from '../core/runtime.ts';
import { buildApp } from './app.ts';
import { startServer } from './server.ts';
import type { Socket } from 'node:net';
import { bootstrapAdmin } from '../core/auth.ts';
import { maintainFacilities } from '../core/maintenance.ts';
import { Cron } from 'croner';
import uptimeJob from '../functions/uptime-job.ts';
import { settlePulls } from '../core/images/pull-worker.ts';
import { log, setupLogging } from '../core/log.ts';

/** Prints one clear line (no stack trace) and exits: configuration errors, a taken port, an unusable database. */
function die(message: string): never {
  console.error(`src-container-api: not starting: ${message}`);
  process.exit(2);
}

let config: ReturnType<typeof loadConfig>;
let admin: Awaited<ReturnType<typeof bootstrapAdmin>>;
try {
  setupLogging(); // a bad SRC_LOG_LEVEL stops the runner here
  config = loadConfig();
  admin = await bootstrapAdmin();
} catch (e) {
  die(String((e as Error)?.message ?? e).split('\n')[0]);
}
if (admin.created) {
  // the token itself never goes to standard output (journald keeps it); only its 0600 file does
  console.log(`Created the first admin token; read it from ${admin.file} (mode 0600, owner only)`);
}
// what a crash of an earlier run left: interrupted hard resets, unused user networks (core/maintenance.ts)
maintainFacilities().catch(() => undefined);
const host = env('HOST') ?? '127.0.0.1';
const port = Number(env('PORT') ?? 8080);
const app = buildApp({
  rateLimit: Number(env('SRC_RATE_LIMIT') ?? 600),
  // @hono/node-server passes the Node request as env.incoming
  clientAddress: (_req, env) => (env as { incoming?: { socket?: Socket } } | undefined)?.incoming?.socket?.remoteAddress,
});

const { server } = await startServer(app, host, port).catch((err: NodeJS.ErrnoException) => {
  if (err.code === 'EADDRINUSE') die(`${host}:${port} is already in use (another server runs there?); set PORT to another port`);
  if (err.code === 'EACCES') die(`${host}:${port}: permission denied (ports below 1024 need privileges); set PORT`);
  if (err.code === 'EADDRNOTAVAIL') die(`${host} is not an address of this host; set HOST`);
  die(err.message);
});
console.log(`SRC Container API listening on http://${host}:${port}/ (config: ${config.source}; facilities: ${Object.keys(config.facilities).join(', ')})`);
console.log(`Dashboard at http://${host}:${port}/ui/ (sign in with a token)`);
const gw = config.gateway;
console.log(
  `Apps open at ${gw.scheme}://${gw.mode === 'subdomain' ? `<app>.${gw.domain}` : `${gw.domain}/apps/<facility>/<app>`}${gw.portSuffix}/ (POST /{facility}/open-app?name=… answers a sign-in link)`,
);

// The uptime job on `uptime.schedule` (SRC_UPTIME_CRON; `off` disables); protect: no overlapping runs here.
const uptimeCron =
  config.uptime.schedule === 'off'
    ? undefined
    : new Cron(config.uptime.schedule, { name: 'uptime-job', protect: true, catch: (e) => log('uptime').error('uptime job failed: {error}', { error: e }) }, async () => {
        const report = await uptimeJob.scheduled({ cron: config.uptime.schedule, scheduledTime: Date.now() });
        for (const f of report.facilities)
          if (f.outcome === 'failed' || f.outcome === 'refused') log('uptime').error('uptime job {facility}: {outcome}: {detail}', { facility: f.facility, outcome: f.outcome, detail: f.detail });
      });

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, async () => {
    uptimeCron?.stop();
    server.close();
    // let running pulls record their outcome (bounded: a stuck pull must not hold the exit)
    await Promise.race([settlePulls(), new Promise((r) => setTimeout(r, 5000))]);
    process.exit(0);
  });
}
