/**
 * Read side of apps in solo mode: status (`docker ps -a`), stats (`docker stats -a
 * --no-stream`) and inspect, shaped exactly as the docker CLI prints them with `--format json`.
 * @module
 */
import type { Facility } from './facility.ts';
import { inspectApp, listAppsAndResets, RESET_WAIT_MS, resetConflict } from './app-lookup.ts';
import { formatContainerSummary } from './format/containers.ts';
import { computeStats, formatStats, type EngineStats } from './format/stats.ts';
import { EngineError, orNotFound } from './engine.ts';
import { logLines, type LogOptions, type LogSource } from './logs.ts';
import { DomainError } from './errors.ts';
import { truncateID } from './format/go.ts';
import { allOf, failed, mapBatch, mapOk, type Batch } from './batch.ts';
import { LABELS, pickApps } from './naming.ts';

/**
 * The facility's apps (of `user` when given) as a batch: with `names`, those apps in that
 * order, each found or `app_not_found`; without, every app. One name is one filtered Engine list. An app whose hard reset is under
 * way (its name gone, its `NAME.reset-…` replacement there) is waited for, up to
 * {@link RESET_WAIT_MS}; a named one still resetting then is 409 `state_conflict` (Retry-After).
 */
async function appBatch(f: Facility, names?: string[], user?: string): Promise<Batch<any>> {
  const deadline = Date.now() + RESET_WAIT_MS;
  for (let delay = 25; ; delay = Math.min(delay * 2, 400)) {
    // one name: the Engine lists that app only (a label filter), not every app of the facility
    const { apps, resetting } = await listAppsAndResets(f, { user, app: names?.length === 1 ? names[0] : undefined });
    const present = new Set(apps.map((c) => c.Labels[LABELS.app] as string));
    const waiting = [...resetting].filter((n) => !present.has(n) && (!names || names.includes(n)));
    if (waiting.length === 0 || Date.now() >= deadline) {
      if (!names) return allOf(apps);
      const batch = pickApps(apps, names, (c) => c.Labels[LABELS.app]);
      batch.outcomes = batch.outcomes.map((o, i) => (!o.ok && waiting.includes(names[i]) ? failed(resetConflict(names[i]), { name: names[i] }) : o));
      return batch;
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}

/**
 * `docker ps -a --format json` objects for the named apps (or all apps of the facility, or of
 * `user` when given), one outcome per name (`app_not_found` for a name that does not exist).
 */
export async function appStatuses(f: Facility, names?: string[], user?: string): Promise<Batch<unknown>> {
  const batch = await appBatch(f, names, user);
  const now = new Date();
  return mapOk(batch, (c) => formatContainerSummary(c, { now }));
}

/** How long a kept stats sample serves as the CPU baseline of the next read (ms). */
export const STATS_BASELINE_MAX_AGE_MS = 60_000;
/** At most this many containers' last samples are kept (oldest dropped first). */
const STATS_BASELINE_MAX = 2000;
/** Per container ID: the `read` time and `cpu_stats` of its last sample, and when we took it. */
const statsBaselines = new Map<string, { read?: string; cpu_stats: EngineStats['cpu_stats']; at: number }>();

/** Forget every kept stats sample (tests; the next read of each app takes two samples). */
export function clearStatsBaselines(): void {
  statsBaselines.clear();
}

/** Milliseconds between two RFC 3339 timestamps (b − a), 0 when either is missing or zero. */
function msBetween(a: string | undefined, b: string | undefined): number {
  const pa = a ? Date.parse(a) : NaN;
  const pb = b ? Date.parse(b) : NaN;
  // the Engine sends 0001-01-01T00:00:00Z for an absent preread
  if (!(pa > 0) || !(pb > 0)) return 0;
  const frac = (s: string) => Number(`0.${(s.match(/\.(\d+)/)?.[1] ?? '0').padEnd(9, '0').slice(3, 9)}`);
  return Math.max(0, pb - pa + frac(b!) - frac(a!));
}

/**
 * One container's stats and the window (ms) its CPU % was measured over. With a sample of the
 * same container kept from a read less than {@link STATS_BASELINE_MAX_AGE_MS} ago: one
 * `stats?stream=false&one-shot=true` call, CPU % against that sample (what `docker stats`
 * computes between two ticks); else `stats?stream=false` (the Engine samples twice, ~1-2 s).
 * The newest sample becomes the baseline once the kept one is at least 1 s old.
 * @returns null when the container is gone (404)
 */
async function sampleStats(f: Facility, id: string): Promise<{ s: EngineStats; prev?: EngineStats; windowMs: number } | null> {
  const now = Date.now();
  const kept = statsBaselines.get(id);
  const fresh = kept && now - kept.at < STATS_BASELINE_MAX_AGE_MS ? kept : undefined;
  const s: EngineStats | null = await orNotFound(fresh ? f.engine.containerStatsOneShot(id) : f.engine.containerStats(id));
  if (!s) {
    statsBaselines.delete(id);
    return null;
  }
  if (!fresh || now - fresh.at >= 1000) {
    statsBaselines.delete(id);
    statsBaselines.set(id, { read: s.read, cpu_stats: s.cpu_stats, at: Date.now() });
    if (statsBaselines.size > STATS_BASELINE_MAX) statsBaselines.delete(statsBaselines.keys().next().value!);
  }
  if (fresh) return { s, prev: { read: fresh.read, cpu_stats: fresh.cpu_stats }, windowMs: msBetween(fresh.read, s.read) };
  return { s, windowMs: msBetween(s.preread, s.read) };
}

/**
 * `docker stats --no-stream --format json` objects for the named apps (or all apps, stopped
 * ones too, like `docker stats -a`), sampled at most `f.config.statsConcurrency` at once, plus
 * `CPUWindowMs`: the window (ms, between the Engine's two samples) CPU % was measured over,
 * 0 when there was none (a stopped app). An app read in the last minute by this process needs
 * one Engine tick (`stats?stream=false&one-shot=true`, CPU % since that read); otherwise the
 * Engine samples twice (`stats?stream=false`, ~1-2 s).
 * Without names, an app removed between the listing and its sample is left out, as
 * `docker stats -a` drops a removed container; a named one answers `app_not_found`.
 */
export async function appStats(f: Facility, names?: string[], user?: string): Promise<Batch<unknown>> {
  const batch = await appBatch(f, names, user);
  const nameOf = (c: any): string => (c.Names?.[0] ?? '').replace(/^\//, '');
  return mapBatch(
    batch,
    async (c) => {
      const name = nameOf(c);
      const r = await sampleStats(f, c.Id);
      if (!r) {
        if (!names) return null;
        throw new DomainError('app_not_found', `App '${name}' disappeared while reading its stats`, { name });
      }
      const computed = computeStats(r.s, r.prev ? { previous: r.prev } : {});
      const running = (r.s.cpu_stats?.system_cpu_usage ?? 0) > 0;
      return { ...formatStats(computed, { container: names ? name : truncateID(c.Id), id: c.Id, name }), CPUWindowMs: running ? Math.round(r.windowMs) : 0 };
    },
    (c) => ({ name: nameOf(c) }),
    f.config.statsConcurrency,
  );
}

/** The Engine's inspect JSON of one app, unchanged (`docker inspect`). */
export function appInfo(f: Facility, name: string): Promise<unknown> {
  return inspectApp(f, name);
}

/**
 * `get-app-logs` in solo mode: the container's log (`docker logs`; Engine
 * `GET /containers/{id}/logs`), stdout and stderr as lines (raw output when it has a TTY).
 * @throws DomainError `app_not_found`
 */
export async function appLogs(f: Facility, name: string, opts: LogOptions): Promise<LogSource> {
  const c = await inspectApp(f, name);
  let stream: Awaited<ReturnType<typeof f.engine.containerLogs>>;
  try {
    stream = await f.engine.containerLogs(c.Id, opts);
  } catch (e) {
    if (e instanceof EngineError && e.statusCode === 404) throw new DomainError('app_not_found', `App '${name}' disappeared while reading its log`, { name }, { cause: e });
    throw e;
  }
  return { lines: logLines(stream, { tty: !!(c.Config as { Tty?: boolean } | undefined)?.Tty, timestamps: opts.timestamps }), close: () => stream.destroy?.() };
}
