/**
 * Facility mode: `solo` (apps are containers on one Engine) or `swarm` (apps are services of a
 * Docker Swarm, managed through a manager's Engine).
 *
 * The facility config's `mode` decides when it is `solo` or `swarm`; with `auto` (the default)
 * the mode is detected from the Engine's `GET /info`: `swarm` when `Swarm.LocalNodeState` is
 * `active` and `Swarm.ControlAvailable` is true (the Engine is a manager of an active swarm),
 * otherwise `solo` (a swarm worker's Engine cannot manage services, but runs containers). The
 * detected mode is cached for {@link MODE_CACHE_MS} per facility, so a route costs at most one
 * extra `GET /info` every few seconds.
 *
 * Routes declare the modes they work in (`defineRoute({ modes })`); {@link assertMode} is the
 * check the core middleware runs for routes limited to one mode. Only core/backend.ts chooses
 * between solo and swarm code.
 *
 * @example
 * const backend = backendFor(facility, await facilityMode(facility));
 *
 * @module
 */
import { DomainError } from './errors.ts';
import { EngineError } from './engine.ts';
import type { Facility } from './facility.ts';

/** A facility's mode. */
export type Mode = 'solo' | 'swarm';

/** How long a detected mode is trusted (ms). */
export const MODE_CACHE_MS = 5_000;

interface Cached {
  mode: Mode;
  until: number;
}

const cache = new Map<string, Cached>();
const inflight = new Map<string, Promise<Mode>>();

/** The mode an Engine's `GET /info` answer means. */
export function modeFromInfo(info: { Swarm?: { LocalNodeState?: string; ControlAvailable?: boolean } | null }): Mode {
  return info.Swarm?.LocalNodeState === 'active' && info.Swarm?.ControlAvailable === true ? 'swarm' : 'solo';
}

/** The facility's mode given its Engine's `GET /info` answer: the config's `mode` unless `auto`, else what `info` means. */
export function modeOf(f: Facility, info: Parameters<typeof modeFromInfo>[0]): Mode {
  return f.config.mode === 'solo' || f.config.mode === 'swarm' ? f.config.mode : modeFromInfo(info);
}

/**
 * The facility's mode: the config's `mode` unless `auto`, else detected from the Engine
 * (cached {@link MODE_CACHE_MS}; concurrent callers share one `GET /info`).
 * @throws DomainError 503/504 when the mode must be detected and the Engine does not answer
 */
export async function facilityMode(f: Facility): Promise<Mode> {
  const configured = f.config.mode;
  if (configured === 'solo' || configured === 'swarm') return configured;
  const key = `${f.id}\0${f.config.engine.host}`;
  const hit = cache.get(key);
  if (hit && hit.until > Date.now()) return hit.mode;
  let p = inflight.get(key);
  if (!p) {
    p = (async () => {
      try {
        const mode = modeOf(f, await f.engine.detached().info()); // shared by concurrent requests: no one client's signal
        cache.set(key, { mode, until: Date.now() + MODE_CACHE_MS });
        return mode;
      } finally {
        inflight.delete(key);
      }
    })();
    inflight.set(key, p);
  }
  return p;
}

/** Forgets detected modes (tests, or after a facility joined or left a swarm). */
export function resetModeCache(): void {
  cache.clear();
}

/** What a route limited to one mode answers in the other. */
const MODE_HINTS: Record<Mode, string> = {
  swarm: 'in swarm mode apps are services: they start when created and cannot be stopped, paused or restarted; kill-app removes one',
  solo: 'this route needs a swarm manager',
};

/**
 * Checks that `mode`, the facility's, is one of `modes`.
 * @throws DomainError `wrong_mode` naming the facility's mode and the modes the route works in
 *   (the request is well-formed, but conflicts with the facility's current state)
 */
export function assertMode(f: Facility, mode: Mode, modes: readonly Mode[], route: string): Mode {
  if (modes.includes(mode)) return mode;
  throw new DomainError('wrong_mode', `${route} works in ${modes.join(' or ')} mode only; facility '${f.id}' runs in ${mode} mode (${MODE_HINTS[mode]})`, {
    mode,
    modes: [...modes],
  });
}

/**
 * Rethrows an error of a swarm Engine call; the Engine's 503 ("not a swarm manager", or a
 * swarm without a leader) becomes a 503 `engine_unavailable` that says so.
 */
export function swarmEngineError(e: unknown): never {
  if (e instanceof EngineError && e.statusCode === 503) {
    throw new DomainError('engine_unavailable', `The facility's Engine cannot manage the swarm: ${e.engineMessage || e.reason}`, { retryAfter: 5 }, { cause: e });
  }
  throw e;
}
