/**
 * The app backend of a facility: one interface for what the routes do with apps, a solo
 * implementation (containers on one Engine, core/apps.ts and core/app-reads.ts) and a swarm
 * implementation (services of a swarm, core/services.ts and core/service-reads.ts), and
 * {@link backendFor}, the one place that chooses between them (as Portainer's
 * `stack_start.go` dispatches over its injected managers). Routes never look at the mode.
 *
 * Both return the same shapes: lists of names and users, {@link Batch}es for reads and actions
 * over several names, and {@link AppResult}s. The JSON inside a status or stats entry is the
 * docker CLI's for that mode (`docker ps` for containers, `docker service ls` for services).
 *
 * @example
 * const apps = await ctx.apps();              // resolved once per request (core/route.ts)
 * return batchResponse(await apps.act('start', names));
 *
 * @module
 */
import { DomainError, hasCode } from './errors.ts';
import type { Facility } from './facility.ts';
import type { Mode } from './mode.ts';
import type { ImageReference } from './reference.ts';
import type { Requested } from './policy.ts';
import { settle, type Batch } from './batch.ts';
import { LABELS } from './naming.ts';
import { createApp, deleteApp, hardResetApp, killApp, listApps, pauseApp, restartApp, startApp, stopApp, unpauseApp, type AppResult } from './apps.ts';
import { appInfo, appLogs, appStats, appStatuses } from './app-reads.ts';
import type { LogOptions, LogSource } from './logs.ts';
import { assertServiceName, createServiceApp, killServiceApp, listServiceApps } from './services.ts';
import { serviceInfo, serviceLogs, serviceStats, serviceStatuses } from './service-reads.ts';
import { soloUpstream, swarmUpstream, type Upstream } from './gateway/upstream.ts';

export type { AppResult } from './apps.ts';

/** The lifecycle actions on existing apps. */
export type AppAction = 'start' | 'stop' | 'restart' | 'pause' | 'unpause' | 'kill' | 'delete' | 'hard-reset';

/** Options of an action: `timeout` seconds of SIGTERM grace (stop, restart); `assertImage` vets the image of a hard reset. */
export interface ActionOptions {
  timeout?: number;
  assertImage?: (ref: ImageReference) => Promise<void>;
}

/** One app as a list names it: its name, user, Engine ID and the ID of the image it was created from. */
export interface AppSummary {
  name: string;
  user: string;
  id: string;
  imageId: string | undefined;
}

/** What a facility's apps can do, whatever the mode. */
export interface AppBackend {
  readonly mode: Mode;
  /** Every app of the facility (of `user` when given), newest first as the Engine lists them. */
  list(user?: string): Promise<AppSummary[]>;
  /** The names of the apps (of `user` when given), sorted. */
  names(user?: string): Promise<string[]>;
  /** The distinct users that have apps, sorted. */
  users(): Promise<string[]>;
  /** Status of the named apps (or all; of `user`), as the docker CLI lists them: one outcome per name. */
  statuses(names?: string[], user?: string): Promise<Batch<unknown>>;
  /** Resource usage of the named apps (or all; of `user`), as `docker stats --no-stream`. */
  stats(names?: string[], user?: string): Promise<Batch<unknown>>;
  /** The Engine's inspect JSON of one app, unchanged. @throws DomainError `app_not_found` */
  info(name: string): Promise<unknown>;
  /** One app's log lines (stdout, stderr), read or followed (core/logs.ts). @throws DomainError `app_not_found` */
  logs(name: string, opts: LogOptions): Promise<LogSource>;
  /** Whether the app of exactly this name exists (through {@link AppBackend.info}). */
  exists(name: string): Promise<boolean>;
  /**
   * Creates the app IMAGE--USER from an image on the Engine under the facility's create policy.
   * @throws DomainError `invalid_parameter` (name, limits), `image_not_found`, `app_exists`
   */
  create(ref: ImageReference, user: string, requested?: Requested): Promise<AppResult>;
  /**
   * Runs `action` on every name concurrently: one outcome per name.
   * @throws DomainError `wrong_mode` when the mode has no such action
   */
  act(action: AppAction, names: string[], opts?: ActionOptions): Promise<Batch<AppResult>>;
  /** Checks before any approval or Engine call that IMAGE--USER can be created (the mode's name rules). */
  assertCreatable(name: string, ref: ImageReference, user: string): void;
  /**
   * Where the gateway reaches this app (core/gateway/upstream.ts): `{ host, port, node?, socketPath? }`
   * (swarm: the socket of the app's connector, made on demand).
   * @throws DomainError `app_not_found`; `state_conflict` (not running, no port); `app_unreachable` (swarm: no connector)
   */
  upstream(name: string): Promise<Upstream>;
}

/** The actions each mode has. Swarm services start when created and have no stop, pause or restart. */
export const ACTIONS: Readonly<Record<Mode, readonly AppAction[]>> = {
  solo: ['start', 'stop', 'restart', 'pause', 'unpause', 'kill', 'delete', 'hard-reset'],
  swarm: ['kill'],
};

type ActionFn = (f: Facility, name: string, opts: ActionOptions) => Promise<AppResult>;

function runActions(f: Facility, mode: Mode, table: Partial<Record<AppAction, ActionFn>>) {
  return (action: AppAction, names: string[], opts: ActionOptions = {}): Promise<Batch<AppResult>> => {
    const fn = table[action];
    if (!fn) {
      throw new DomainError('wrong_mode', `${action}-app does not exist in ${mode} mode (facility '${f.id}')`, {
        mode,
        modes: (Object.keys(ACTIONS) as Mode[]).filter((m) => ACTIONS[m].includes(action)),
      });
    }
    return settle(
      names,
      (n) => fn(f, n, opts),
      (n) => ({ name: n }),
    );
  };
}

function summaries<T>(items: T[], labelsOf: (x: T) => Record<string, string> | null | undefined, idOf: (x: T) => string): AppSummary[] {
  return items.map((x) => {
    const l = labelsOf(x) ?? {};
    return { name: l[LABELS.app], user: l[LABELS.user], id: idOf(x), imageId: l[LABELS.imageId] };
  });
}

function withDerived(b: Omit<AppBackend, 'names' | 'users' | 'exists'>): AppBackend {
  return {
    ...b,
    exists: (name) =>
      b.info(name).then(
        () => true,
        (e) => {
          if (hasCode(e, 'app_not_found')) return false;
          throw e;
        },
      ),
    names: async (user) => (await b.list(user)).map((a) => a.name).sort(),
    users: async () => [...new Set((await b.list()).map((a) => a.user))].sort(),
  };
}

/** Solo mode: apps are containers on the facility's Engine. */
function soloBackend(f: Facility): AppBackend {
  return withDerived({
    mode: 'solo',
    list: async (user) =>
      summaries(
        await listApps(f, { user }),
        (c) => c.Labels,
        (c) => c.Id,
      ),
    statuses: (names, user) => appStatuses(f, names, user),
    stats: (names, user) => appStats(f, names, user),
    info: (name) => appInfo(f, name),
    logs: (name, opts) => appLogs(f, name, opts),
    create: (ref, user, requested) => createApp(f, ref, user, requested),
    assertCreatable: () => undefined,
    upstream: (name) => soloUpstream(f, name),
    act: runActions(f, 'solo', {
      start: (f, n) => startApp(f, n),
      stop: (f, n, o) => stopApp(f, n, o.timeout),
      restart: (f, n, o) => restartApp(f, n, o.timeout),
      pause: (f, n) => pauseApp(f, n),
      unpause: (f, n) => unpauseApp(f, n),
      kill: (f, n) => killApp(f, n),
      delete: (f, n) => deleteApp(f, n),
      'hard-reset': (f, n, o) => hardResetApp(f, n, { assertImage: o.assertImage }),
    }),
  });
}

/** Swarm mode: apps are services of the swarm the facility's Engine manages. */
function swarmBackend(f: Facility): AppBackend {
  return withDerived({
    mode: 'swarm',
    list: async (user) =>
      summaries(
        await listServiceApps(f, { user }),
        (s) => s.Spec.Labels,
        (s) => s.ID,
      ),
    statuses: (names, user) => serviceStatuses(f, names, user),
    stats: (names, user) => serviceStats(f, names, user),
    info: (name) => serviceInfo(f, name),
    logs: (name, opts) => serviceLogs(f, name, opts),
    create: (ref, user, requested) => createServiceApp(f, ref, user, requested),
    assertCreatable: (name, ref, user) => assertServiceName(name, ref, user),
    upstream: (name) => swarmUpstream(f, name),
    act: runActions(f, 'swarm', { kill: (f, n) => killServiceApp(f, n) }),
  });
}

/** The backend of `f` in `mode`: the one dispatch point between containers and services. */
export function backendFor(f: Facility, mode: Mode): AppBackend {
  return mode === 'swarm' ? swarmBackend(f) : soloBackend(f);
}
