/**
 * Read side of apps: status (`docker ps -a`), stats (`docker stats -a --no-stream`) and
 * inspect, shaped exactly as the docker CLI prints them with `--format json`.
 * @module
 */
import type { Facility } from './facility.ts';
import { inspectApp, listApps } from './apps.ts';
import { formatContainerSummary } from './format/containers.ts';
import { computeStats, formatStats } from './format/stats.ts';
import { orNotFound } from './engine.ts';
import { ApiError } from './errors.ts';
import { truncateID } from './format/go.ts';
import { oneOrMany } from './naming.ts';

/**
 * `docker ps -a --format json` objects for the named apps (or all apps of the facility, or of
 * `user` when given).
 * @throws ApiError 404 for a named app that does not exist
 */
export async function appStatuses(f: Facility, names?: string[], user?: string): Promise<unknown> {
  const apps = await listApps(f, { names, user });
  const now = new Date();
  return oneOrMany(names, apps.map((c) => formatContainerSummary(c, { now })));
}

/**
 * `docker stats --no-stream --format json` objects for the named apps (or all apps, stopped
 * ones too, like `docker stats -a`), sampled concurrently (Engine
 * `GET /containers/{id}/stats?stream=false`, ~1-2 s per sample, in parallel).
 * Without names, an app removed between the listing and its sample is left out, as
 * `docker stats -a` drops a removed container.
 * @throws ApiError 404 for a named app that does not exist or disappears while sampled
 */
export async function appStats(f: Facility, names?: string[], user?: string): Promise<unknown> {
  const apps = await listApps(f, { names, user });
  const out = await Promise.all(
    apps.map(async (c) => {
      const name = (c.Names?.[0] ?? '').replace(/^\//, '');
      const s = await orNotFound(f.engine.containerStats(c.Id));
      if (!s) {
        if (!names) return null;
        throw new ApiError(404, 'app_not_found', `App '${name}' disappeared while reading its stats`, { name });
      }
      return formatStats(computeStats(s), { container: names ? name : truncateID(c.Id), id: c.Id, name });
    }),
  );
  return oneOrMany(names, out.filter((x) => x !== null));
}

/** The Engine's inspect JSON of one app, unchanged (`docker inspect`). */
export function appInfo(f: Facility, name: string): Promise<unknown> {
  return inspectApp(f, name);
}
