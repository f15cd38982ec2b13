/**
 * Read side of apps in solo mode: status (`docker ps -a`), stats (`docker stats -a
 * --no-stream`) and inspect, shaped exactly as the docker CLI prints them with `--format json`.
 * @module
 */
import type { Facility } from './facility.ts';
import { inspectApp, listAppsAndResets, RESET_WAIT_MS, resetConflict } from './app-lookup.ts';
import { formatContainerSummary } from './format/containers.ts';
import { computeStats, formatStats } from './format/stats.ts';
import { EngineError, orNotFound } from './engine.ts';
import { logLines, type LogOptions, type LogSource } from './logs.ts';
import { DomainError } from './errors.ts';
import { truncateID } from './format/go.ts';
import { allOf, failed, mapBatch, type Batch } from './batch.ts';
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
  return mapBatch(
    batch,
    async (c) => formatContainerSummary(c, { now }),
    () => ({}),
    Infinity,
  );
}

/**
 * `docker stats --no-stream --format json` objects for the named apps (or all apps, stopped
 * ones too, like `docker stats -a`), sampled at most `f.config.concurrency` at once (Engine
 * `GET /containers/{id}/stats?stream=false`, ~1-2 s per sample).
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
      const s = await orNotFound(f.engine.containerStats(c.Id));
      if (!s) {
        if (!names) return null;
        throw new DomainError('app_not_found', `App '${name}' disappeared while reading its stats`, { name });
      }
      return formatStats(computeStats(s), { container: names ? name : truncateID(c.Id), id: c.Id, name });
    },
    (c) => ({ name: nameOf(c) }),
    f.config.concurrency,
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
