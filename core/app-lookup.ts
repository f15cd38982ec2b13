/**
 * Finding a solo-mode app by its exact name, also while a hard reset replaces its container:
 * the reset creates the replacement `NAME.reset-…` before it removes the old container and
 * renames it after, so a look that finds neither name waits for the reset (bounded by
 * {@link RESET_WAIT_MS}, then 409 `state_conflict` with Retry-After) instead of answering 404.
 * Lists of apps (core/apps.ts, core/app-reads.ts) come from here too.
 *
 * @module
 */
import { DomainError } from './errors.ts';
import { orNotFound } from './engine.ts';
import type { Facility } from './facility.ts';
import { appFilter, appNotFound, isAppOf, LABELS } from './naming.ts';

/** Engine container inspect JSON (the fields we read; the rest passes through unchanged). */
export type ContainerInspect = Record<string, any> & {
  Id: string;
  Name: string;
  State: { Status: string; Running: boolean; Paused: boolean };
  Config: { Labels?: Record<string, string> | null; Image: string };
};

/**
 * Loads one app's inspect JSON (`GET /containers/{name}/json`). While a hard reset of the app
 * has removed the old container and not yet renamed the new one, waits for the name to come
 * back ({@link awaitReset}).
 * @throws DomainError 404 `app_not_found` if no container of that name carries our labels for this facility;
 *   409 `state_conflict` (Retry-After) when a hard reset of the app outlasts the wait
 */
export async function inspectApp(f: Facility, name: string): Promise<ContainerInspect> {
  return (await inspectExact(f, name)) ?? awaitReset(f, name);
}

/** The app's inspect JSON when a container of exactly that name carries our labels for this facility, else null (no waiting). */
export async function inspectExact(f: Facility, name: string): Promise<ContainerInspect | null> {
  const c: ContainerInspect | null = await orNotFound(f.engine.inspectContainer(name));
  return c && c.Name === `/${name}` && isAppOf(c.Config?.Labels, f.id) ? c : null;
}

/** How long a read or action on an app waits for a hard reset of it to finish (ms). */
export const RESET_WAIT_MS = 5_000;

/** The 409 for an app whose hard reset outlasted {@link RESET_WAIT_MS}. */
export function resetConflict(name: string): DomainError {
  return new DomainError('state_conflict', `${name} is being hard reset; retry in a moment`, { name, state: 'resetting', retryAfter: 1 });
}

/** The app names (`io.src-container-api.app`) that have a hard reset's replacement `NAME.reset-…` younger than {@link RESET_GRACE_MS} among `containers` (a list's entries). */
export function resettingApps(containers: any[]): Set<string> {
  const out = new Set<string>();
  for (const c of containers) {
    const app = c.Labels?.[LABELS.app];
    const n: string | undefined = c.Names?.[0];
    if (!app || !n?.startsWith(`/${app}.reset-`)) continue;
    const started = resetStartedAt(n);
    if (started !== undefined && Date.now() - started <= RESET_GRACE_MS) out.add(app);
  }
  return out;
}

/**
 * The app `name` is not there: if a hard reset of it is under way (a young `NAME.reset-…`
 * replacement exists), polls for up to {@link RESET_WAIT_MS} until the name is back. A hard
 * reset creates the replacement before it removes the old container, and renames it after,
 * so at every moment the name or a replacement exists; each look is one container list (one
 * snapshot of the Engine's names), so the app is 404 only when a list shows neither.
 * @throws DomainError 404 `app_not_found` (no reset under way), 409 `state_conflict` with `retryAfter` (still resetting)
 */
async function awaitReset(f: Facility, name: string): Promise<ContainerInspect> {
  const deadline = Date.now() + RESET_WAIT_MS;
  for (let delay = 25; ; delay = Math.min(delay * 2, 400)) {
    const list = await f.engine.listContainers({ all: true, filters: appFilter(f.id, [`${LABELS.app}=${name}`]) });
    if (list.some((c) => c.Names?.includes(`/${name}`))) {
      const back = await inspectExact(f, name);
      if (back) return back;
    } else if (!resettingApps(list).has(name)) throw appNotFound(name);
    if (Date.now() >= deadline) throw resetConflict(name);
    await new Promise((r) => setTimeout(r, delay));
  }
}

/**
 * Whether a hard reset replaced the container `id` of app `name`: another container holds the
 * name now, or a reset of the app is under way (waits up to {@link RESET_WAIT_MS} for it).
 */
export async function replaced(f: Facility, name: string, id: string): Promise<boolean> {
  const deadline = Date.now() + RESET_WAIT_MS;
  for (let delay = 25; ; delay = Math.min(delay * 2, 400)) {
    const list = await f.engine.listContainers({ all: true, filters: appFilter(f.id, [`${LABELS.app}=${name}`]) });
    const holder = list.find((c) => c.Names?.includes(`/${name}`));
    if (holder && holder.Id !== id) return true;
    if (!resettingApps(list).has(name)) return false;
    if (Date.now() >= deadline) return true;
    await new Promise((r) => setTimeout(r, delay));
  }
}

/** A replacement younger than this may be one that a concurrent hard reset is still working on. */
export const RESET_GRACE_MS = 10 * 60_000;

/** When the hard reset that named a replacement `NAME.reset-<ms base36>-<4 hex>` started (older names: undefined). */
export function resetStartedAt(containerName: string | undefined): number | undefined {
  const m = (containerName ?? '').match(/\.reset-([0-9a-z]{1,11})-[0-9a-f]{4}$/);
  return m ? parseInt(m[1], 36) : undefined;
}

/**
 * Lists the apps of a facility (`GET /containers/json?all=1` filtered by our labels), newest
 * first as the Engine orders them. Containers of other facilities and unmanaged containers are
 * never included. An app whose hard reset has removed the old container and not yet renamed
 * the new one is listed by its replacement, so names and users do not flicker during a reset.
 */
export async function listApps(f: Facility, q: { user?: string; size?: boolean } = {}): Promise<any[]> {
  const { apps, resetting, all } = await listAppsAndResets(f, q);
  const named = new Set(apps.map((c) => c.Labels[LABELS.app]));
  const standIns = all.filter((c) => {
    const app = c.Labels?.[LABELS.app];
    if (!resetting.has(app) || named.has(app) || !c.Names?.[0]?.startsWith(`/${app}.reset-`)) return false;
    named.add(app); // the newest replacement only (the Engine lists newest first)
    return true;
  });
  return [...apps, ...standIns];
}

/**
 * {@link listApps}, the names of the apps with a hard reset under way ({@link resettingApps}), and every listed container (`all`), from one container list.
 * With `app`, the Engine lists only that app's containers (its label; a hard reset's replacement carries it too).
 */
export async function listAppsAndResets(f: Facility, q: { user?: string; size?: boolean; app?: string } = {}): Promise<{ apps: any[]; resetting: Set<string>; all: any[] }> {
  const extra = [...(q.user ? [`${LABELS.user}=${q.user}`] : []), ...(q.app ? [`${LABELS.app}=${q.app}`] : [])];
  const list = await f.engine.listContainers({ all: true, size: q.size, filters: appFilter(f.id, extra) });
  return { apps: list.filter((c) => c.Names?.[0] === `/${c.Labels?.[LABELS.app]}`), resetting: resettingApps(list), all: list };
}
