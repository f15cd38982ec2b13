/**
 * Prometheus metrics (prom-client). Two kinds of series:
 *
 * - **Per process** (every runner and every deployed function process): requests by route,
 *   method and status with a latency histogram, Engine call latency by endpoint, image pulls by
 *   result, uptime-job run durations. Every series carries `instance` (`SRC_INSTANCE`, else
 *   `HOST:PORT`, else `pid-N`), so replicas of one route never overwrite each other; the
 *   counters of a route are the sum over its processes (`sum by (route) (…)`).
 * - **At scrape time** ({@link collectSharedGauges}, only in the runner's `/metrics` and the
 *   `metrics` function): computed from the Engines and the database when scraped, so they are
 *   correct however many processes serve: apps by state per facility, whether each facility's
 *   Engine answers, image requests by state, and per facility the uptime job's last successful
 *   run and its lag (now minus the Engine time its history reaches).
 *
 * No series has a per-user or per-app label.
 *
 * @example
 * const text = await metricsText({ shared: true });  // the exposition format
 *
 * @module
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { afterResponse, env } from './runtime.ts';

/** The registry of this process's series (and, when collected, the shared gauges). */
export const registry = new Registry();

/** This process's `instance` label. */
export function instanceLabel(): string {
  const explicit = env('SRC_INSTANCE');
  if (explicit) return explicit;
  const port = env('PORT');
  if (port) return `${env('HOST') ?? '127.0.0.1'}:${port}`;
  return `pid-${globalThis.process?.pid ?? 0}`;
}

let defaultsSet = false;
function labelled(): Registry {
  if (!defaultsSet) {
    registry.setDefaultLabels({ instance: instanceLabel() });
    defaultsSet = true;
  }
  return registry;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

const requests = new Counter({ name: 'src_http_requests_total', help: 'Requests answered, by route, method and status', labelNames: ['route', 'method', 'status'], registers: [registry] });
const requestSeconds = new Histogram({
  name: 'src_http_request_duration_seconds',
  help: 'Time to answer a request (to the first byte of a streamed answer), by route',
  labelNames: ['route'],
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});
const engineSeconds = new Histogram({
  name: 'src_engine_call_duration_seconds',
  help: 'Engine API call latency by endpoint (METHOD /path template) and outcome (ok, error)',
  labelNames: ['endpoint', 'outcome'],
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});
const pulls = new Counter({ name: 'src_image_pulls_total', help: 'Image pulls finished by this process, by result (pulled, already_present, failed)', labelNames: ['result'], registers: [registry] });
const uptimeRunSeconds = new Histogram({
  name: 'src_uptime_job_duration_seconds',
  help: "Uptime job passes run by this process: one facility's run, by outcome",
  labelNames: ['facility', 'outcome'],
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [registry],
});

/**
 * Observations not yet recorded: request and Engine-call series are recorded just after the
 * answer is written (core/runtime.ts `afterResponse`), not on its way (prom-client's label
 * lookup, ~10-20 µs each, and the Engine path template would delay it); a scrape records them
 * first ({@link metricsText}), so it always counts every request answered before it.
 */
const pending: (() => void)[] = [];

/** Queues `record` for just after the answer. */
function later(record: () => void): void {
  if (pending.push(record) === 1) afterResponse(recordPending);
}

/** Records the queued observations, in order. */
function recordPending(): void {
  labelled();
  for (const record of pending.splice(0)) record();
}

/** Counts one answered request (recorded just after the answer). */
export function observeRequest(route: string, method: string, status: number, seconds: number): void {
  later(() => {
    requests.inc({ route, method, status: String(status) });
    requestSeconds.observe({ route }, seconds);
  });
}

/**
 * Records one Engine call (core/observe.ts calls this for every call; recorded just after the
 * answer). `endpoint` yields its label (`METHOD /path template`) then, off the answer's path.
 */
export function observeEngineCall(endpoint: () => string, seconds: number, ok: boolean): void {
  later(() => engineSeconds.observe({ endpoint: endpoint(), outcome: ok ? 'ok' : 'error' }, seconds));
}

/** Counts a finished pull. */
export function countPull(result: 'pulled' | 'already_present' | 'failed'): void {
  labelled();
  pulls.inc({ result });
}

/** Records one facility's uptime-job run. */
export function observeUptimeRun(facility: string, outcome: string, seconds: number): void {
  labelled();
  uptimeRunSeconds.observe({ facility, outcome }, seconds);
}

/** The values {@link collectSharedGauges} sets. */
export interface SharedGauges {
  apps: { facility: string; state: string; count: number }[];
  engineUp: { facility: string; up: boolean }[];
  imageRequests: { facility: string; state: string; count: number }[];
  uptime: { facility: string; lastSuccess?: number; lagSeconds?: number; lastRunFailed: boolean }[];
}

const shared = {
  apps: new Gauge({ name: 'src_apps', help: 'Apps by state per facility (Engine state: running, exited, paused, created; swarm: the task state)', labelNames: ['facility', 'state'], registers: [] }),
  engineUp: new Gauge({ name: 'src_facility_engine_up', help: "1 when the facility's Engine answered at scrape time, else 0", labelNames: ['facility'], registers: [] }),
  imageRequests: new Gauge({
    name: 'src_image_requests',
    help: 'Image requests by state per facility (pending, approved, pulling, pulled, failed, denied)',
    labelNames: ['facility', 'state'],
    registers: [],
  }),
  lastSuccess: new Gauge({
    name: 'src_uptime_job_last_success_timestamp_seconds',
    help: "Unix time of the uptime job's last run without error, per facility",
    labelNames: ['facility'],
    registers: [],
  }),
  lag: new Gauge({ name: 'src_uptime_job_lag_seconds', help: 'Now minus the Engine time up to which the uptime history is recorded, per facility', labelNames: ['facility'], registers: [] }),
  lastFailed: new Gauge({ name: 'src_uptime_job_last_run_failed', help: "1 when the uptime job's last run for the facility recorded an error", labelNames: ['facility'], registers: [] }),
};

/** A registry holding the shared gauges set to `g` (no `instance` label: they describe the facilities, not a process). */
export function sharedRegistry(g: SharedGauges): Registry {
  const r = new Registry();
  for (const m of Object.values(shared)) {
    m.reset();
    r.registerMetric(m);
  }
  for (const a of g.apps) shared.apps.set({ facility: a.facility, state: a.state }, a.count);
  for (const e of g.engineUp) shared.engineUp.set({ facility: e.facility }, e.up ? 1 : 0);
  for (const i of g.imageRequests) shared.imageRequests.set({ facility: i.facility, state: i.state }, i.count);
  for (const u of g.uptime) {
    if (u.lastSuccess !== undefined) shared.lastSuccess.set({ facility: u.facility }, u.lastSuccess);
    if (u.lagSeconds !== undefined) shared.lag.set({ facility: u.facility }, u.lagSeconds);
    shared.lastFailed.set({ facility: u.facility }, u.lastRunFailed ? 1 : 0);
  }
  return r;
}

/** The exposition text of this process's series, followed by `extra` registries' (the shared gauges). */
export async function metricsText(extra: Registry[] = []): Promise<string> {
  recordPending();
  const parts = [await registry.metrics(), ...(await Promise.all(extra.map((r) => r.metrics())))];
  return parts.filter((p) => p.trim() !== '').join('\n');
}

/** The exposition format's content type. */
export const METRICS_CONTENT_TYPE = registry.contentType;
