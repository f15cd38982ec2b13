/**
 * Operations endpoints shared by the runner and the deployed functions: `/healthz` (the process
 * lives), `/readyz` (the database can be written; each facility's Engine state reported but
 * never failing readiness) and `/metrics` (Prometheus; an admin token), see core/metrics.ts.
 *
 * @example
 * app.get('/readyz', (c) => readyz());
 * app.get('/metrics', (c) => metrics(c.req.raw, { shared: true }));
 *
 * @module
 */
import { loadConfig } from './config.ts';
import { DomainError } from './errors.ts';
import { getFacility } from './facility.ts';
import { errorResponse, json } from './http.ts';
import { authenticate } from './identity.ts';
import { facilityMode } from './mode.ts';
import { backendFor } from './backend.ts';
import { getDb, withBusyRetry } from './store.ts';
import { METRICS_CONTENT_TYPE, metricsText, sharedRegistry, type SharedGauges } from './metrics.ts';
import { log } from './log.ts';

/** How long a probe waits for an Engine or the database. */
const PROBE_MS = 3000;

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** `GET /healthz`: 200 `{status: "ok"}` while the process serves. */
export function healthz(): Response {
  return json({ status: 'ok' }, 200, { 'cache-control': 'no-store' });
}

/** One facility's Engine as `/readyz` reports it. */
export interface EngineProbe {
  engine: 'up' | 'down';
  apiVersion?: string;
  detail?: string;
}

/** Pings every facility's Engine (`GET /version`, at most {@link PROBE_MS}); never throws. */
export async function probeEngines(): Promise<Record<string, EngineProbe>> {
  const ids = Object.keys(loadConfig().facilities);
  const out = await Promise.all(
    ids.map(async (id): Promise<[string, EngineProbe]> => {
      try {
        const f = getFacility(id);
        const v = await f.engine.withSignal(AbortSignal.timeout(PROBE_MS)).version();
        return [id, { engine: 'up', apiVersion: String(v.ApiVersion ?? '') }];
      } catch (e) {
        return [id, { engine: 'down', detail: (e as Error)?.message ?? String(e) }];
      }
    }),
  );
  return Object.fromEntries(out);
}

/**
 * `GET /readyz`: 200 when the database takes a write (one row of `ops_probe` is rewritten),
 * else 503; the body holds `database` and each facility's Engine state (`facilities`), which
 * never fails readiness: one Engine down must not take every replica out of the proxy.
 */
export async function readyz(): Promise<Response> {
  const [database, facilities] = await Promise.all([
    within(
      (async () => {
        const db = await getDb();
        await withBusyRetry(
          () =>
            db.batch(
              [
                'CREATE TABLE IF NOT EXISTS ops_probe (id INTEGER PRIMARY KEY CHECK (id = 1), at TEXT NOT NULL)',
                { sql: 'INSERT INTO ops_probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at', args: [new Date().toISOString()] },
              ],
              'write',
            ),
          2,
        );
        return { writable: true } as { writable: boolean; detail?: string };
      })(),
      PROBE_MS,
      'database',
    ).catch((e) => ({ writable: false, detail: (e as Error)?.message ?? String(e) })),
    probeEngines(),
  ]);
  if (!database.writable) log('health').warn('not ready: database not writable: {detail}', { detail: database.detail });
  return json({ status: database.writable ? 'ready' : 'not_ready', database, facilities }, database.writable ? 200 : 503, { 'cache-control': 'no-store' });
}

/**
 * Reads the gauges that describe the facilities rather than a process, at scrape time: apps by
 * state (the backend's status list: `State` of `docker ps`, or of the swarm task), whether each
 * Engine answers, image requests by state, the uptime job's last success and lag.
 */
export async function collectSharedGauges(nowMs = Date.now()): Promise<SharedGauges> {
  const g: SharedGauges = { apps: [], engineUp: [], imageRequests: [], uptime: [] };
  const ids = Object.keys(loadConfig().facilities);
  await Promise.all(
    ids.map(async (id) => {
      try {
        const base = getFacility(id);
        const f = { ...base, engine: base.engine.withSignal(AbortSignal.timeout(PROBE_MS * 2)) };
        const batch = await (await backendFor(f, await facilityMode(f))).statuses();
        const counts = new Map<string, number>();
        for (const o of batch.outcomes) {
          if (!o.ok) continue;
          const state = String((o.value as { State?: string })?.State || 'unknown');
          counts.set(state, (counts.get(state) ?? 0) + 1);
        }
        for (const [state, count] of counts) g.apps.push({ facility: id, state, count });
        g.engineUp.push({ facility: id, up: true });
      } catch {
        g.engineUp.push({ facility: id, up: false });
      }
    }),
  );
  const db = await getDb();
  const tables = new Set((await db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")).rows.map((r) => String(r.name)));
  if (tables.has('image_requests')) {
    for (const r of (await db.execute('SELECT facility, state, COUNT(*) AS n FROM image_requests GROUP BY facility, state')).rows) {
      g.imageRequests.push({ facility: String(r.facility), state: String(r.state), count: Number(r.n) });
    }
  }
  if (tables.has('uptime_checkpoints')) {
    for (const r of (await db.execute('SELECT facility, checkpoint_at, last_run_at, last_error FROM uptime_checkpoints')).rows) {
      const facility = String(r.facility);
      if (!ids.includes(facility)) continue;
      const failed = r.last_error !== null && r.last_error !== '';
      const lastRun = r.last_run_at ? Date.parse(String(r.last_run_at)) : Number.NaN;
      const checkpoint = r.checkpoint_at ? Date.parse(String(r.checkpoint_at)) : Number.NaN;
      g.uptime.push({
        facility,
        lastRunFailed: failed,
        lastSuccess: !failed && Number.isFinite(lastRun) ? lastRun / 1000 : undefined,
        lagSeconds: Number.isFinite(checkpoint) ? Math.max(0, (nowMs - checkpoint) / 1000) : undefined,
      });
    }
  }
  return g;
}

/**
 * `GET /metrics`: the Prometheus exposition of this process's series, and with `shared` the
 * gauges computed at scrape time ({@link collectSharedGauges}). Needs an admin token.
 * @returns 200 text/plain; 401/403 problem+json without an admin token
 */
export async function metrics(req: Request, opts: { shared: boolean }): Promise<Response> {
  try {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new DomainError('method_not_allowed', `/metrics takes GET, not ${req.method.slice(0, 20)}`, { allow: 'GET' });
    const identity = await authenticate(req, 'metrics', 'admin');
    if (identity.role !== 'admin' || identity.onBehalfOf !== undefined) throw new DomainError('forbidden', '/metrics is for admin tokens');
    const extra = opts.shared ? [sharedRegistry(await collectSharedGauges())] : [];
    return new Response(await metricsText(extra), { headers: { 'content-type': METRICS_CONTENT_TYPE, 'cache-control': 'no-store' } });
  } catch (e) {
    return errorResponse(e);
  }
}
