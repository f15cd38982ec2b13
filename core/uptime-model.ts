/**
 * Uptime history, the pure part: Engine times, container and app states, and the computation
 * of one container's changes across a span the Engine's events may have lost. No I/O here (see
 * core/uptime-run.ts and core/uptime-swarm-run.ts for one run, core/uptime-job.ts for the job
 * and core/uptime-store.ts for the tables), so every rule is unit-testable.
 *
 * Times are nanoseconds since the epoch (`bigint`), stored and returned as ISO-8601 UTC with
 * nine fractional digits and `Z` (`2026-11-29T12:30:49.070197545Z`): fixed width, so text order
 * is time order, and exact to the Engine's event time.
 *
 * States: a container is `running`, `paused`, `stopped` (created, exited, dead) or `unknown`;
 * an app (all containers labelled with its name, so a hard reset's replacement counts too) is
 * `running` if any of its containers runs (paused does not), else `unknown` if any container's
 * state is unknown, else `not-running`.
 *
 * @example
 * nsToIso(1795955449070197545n)              // '2026-11-29T12:30:49.070197545Z'
 * isoToNs('2026-11-29T12:30:49.0701975Z')    // 1795955449070197500n
 *
 * @module
 */
import type { EngineEvent } from './engine.ts';
import { LABELS } from './naming.ts';

// --- Time -----------------------------------------------------------------------------------

/** Nanoseconds per millisecond. */
export const NS_PER_MS = 1_000_000n;
/** Nanoseconds per second. */
export const NS_PER_S = 1_000_000_000n;

/** ISO-8601 UTC with nine fractional digits and `Z` for nanoseconds since the epoch. */
export function nsToIso(ns: bigint): string {
  const sec = ns / NS_PER_S;
  const frac = ns % NS_PER_S;
  return `${new Date(Number(sec) * 1000).toISOString().slice(0, 19)}.${String(frac).padStart(9, '0')}Z`;
}

const RFC3339 = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;

/**
 * Nanoseconds since the epoch for an RFC 3339 time as the Engine writes it (`StartedAt`,
 * `SystemTime`: any number of fractional digits, `Z` or an offset).
 * @returns `null` for Go's zero time (`0001-01-01T00:00:00Z`, "never"), anything before 1970, or text that is not RFC 3339
 */
export function isoToNs(s: string | null | undefined): bigint | null {
  const m = s ? s.match(RFC3339) : null;
  if (!m) return null;
  const [, y, mo, d, h, mi, se, frac = '', off] = m;
  if (Number(y) < 1970) return null;
  let ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(se));
  if (off !== 'Z') ms -= (off[0] === '-' ? -1 : 1) * (Number(off.slice(1, 3)) * 60 + Number(off.slice(4, 6))) * 60_000;
  if (ms < 0 || Number.isNaN(ms)) return null;
  return BigInt(ms) * NS_PER_MS + BigInt(frac.padEnd(9, '0') || '0');
}

/** Nanoseconds for milliseconds since the epoch (`Date.now()`). */
export function msToNs(ms: number): bigint {
  return BigInt(Math.trunc(ms)) * NS_PER_MS;
}

/** The key of the spec's summary format: the second, UTC, with `Z` (`2023-06-20T13:50:45Z`). */
export function secondKey(iso: string): string {
  return `${iso.slice(0, 19)}Z`;
}

// --- States ---------------------------------------------------------------------------------

/** A container's state as the job tracks it (created, exited and dead are `stopped`). */
export type ContainerState = 'running' | 'paused' | 'stopped' | 'unknown';
/** An app's state: `running` if any container runs (paused does not), else `unknown` if any is unknown, else `not-running`. */
export type AppState = 'running' | 'not-running' | 'unknown';
/** Where a transition's time comes from. */
export type TransitionSource = 'event' | 'reconcile' | 'first-run' | 'unreachable' | 'retention';

/** What the job remembers of one container between runs. */
export interface TrackedContainer {
  app: string;
  state: ContainerState;
}
/** Container ID -> its app and state, as of the checkpoint. */
export type Snapshot = Record<string, TrackedContainer>;

/** One change of an app's state. */
export interface Transition {
  app: string;
  /** Nanoseconds since the epoch. */
  at: bigint;
  state: AppState;
  source: TransitionSource;
  /** The Engine event action (`start`, `die`, …) or what a reconciliation used (`StartedAt`, …). */
  action?: string;
  containerId?: string;
}

/** A container as the Engine shows it now (list, or inspect when times are needed). */
export interface ContainerView {
  id: string;
  app: string;
  state: ContainerState;
  /** From inspect; `undefined` when only listed. */
  created?: bigint | null;
  startedAt?: bigint | null;
  finishedAt?: bigint | null;
}

/** Container state from the Engine's list `State` string (`running`, `paused`, `exited`, …). */
export function stateFromListStatus(state: string | undefined): ContainerState {
  if (state === 'running') return 'running';
  if (state === 'paused') return 'paused';
  return 'stopped'; // created, restarting (backing off), removing, exited, dead
}

/** Container state from inspect's `State` object. */
export function stateFromInspect(s: { Running?: boolean; Paused?: boolean; Restarting?: boolean } | undefined): ContainerState {
  if (!s) return 'unknown';
  if (s.Paused) return 'paused';
  if (s.Running && !s.Restarting) return 'running';
  return 'stopped';
}

/** The event action without its detail (`exec_start: sh -c …` -> `exec_start`, `health_status: healthy` -> `health_status`). */
export function baseAction(action: string): string {
  const i = action.indexOf(':');
  return i < 0 ? action : action.slice(0, i);
}

/**
 * A container's state right after an event, `'absent'` after `destroy`, or `undefined` for
 * actions that change no state (`kill` only sends a signal; `die` follows if it exits; `oom`,
 * `exec_*`, `rename`, `health_status`, …).
 */
export function stateAfter(action: string): ContainerState | 'absent' | undefined {
  switch (baseAction(action)) {
    case 'create':
    case 'die':
    case 'stop':
      return 'stopped';
    case 'start':
    case 'restart':
    case 'unpause':
      return 'running';
    case 'pause':
      return 'paused';
    case 'destroy':
      return 'absent';
    default:
      return undefined;
  }
}

/**
 * A container's state right before an event: `'absent'` before `create`, `null` when the event
 * does not tell (`die` ends a running or a paused container), `undefined` for actions that
 * change no state.
 */
export function stateBefore(action: string): ContainerState | 'absent' | null | undefined {
  switch (baseAction(action)) {
    case 'create':
      return 'absent';
    case 'start':
      return 'stopped';
    case 'restart': // emitted once the container runs again
    case 'pause':
      return 'running';
    case 'unpause':
      return 'paused';
    case 'stop': // follows `die`
    case 'destroy': // a running container is killed (`die`) before `destroy`
      return 'stopped';
    case 'die':
      return null;
    default:
      return undefined;
  }
}

/** App state from its containers' states; `undefined` when it has none (absent). */
export function appStateFrom(states: ContainerState[]): AppState | undefined {
  if (states.length === 0) return undefined;
  if (states.includes('running')) return 'running';
  if (states.includes('unknown')) return 'unknown';
  return 'not-running';
}

/** Whether an Engine event is a container event of `facility`'s apps. */
export function isAppEvent(ev: EngineEvent, facility: string): boolean {
  const a = ev.Actor?.Attributes;
  return ev.Type === 'container' && !!a && LABELS.schema in a && a[LABELS.facility] === facility && !!a[LABELS.app];
}

// --- Reconciliation ---------------------------------------------------------------------------

/** One reconstructed change of a container. */
export interface ContainerPoint {
  at: bigint;
  state: ContainerState | 'absent';
  /** What the time comes from: `Created`, `StartedAt`, `FinishedAt`, `gap` (start of an unknown span), `gap-end`. */
  why: string;
}

const started = (s: ContainerState | 'absent') => s === 'running' || s === 'paused';

/**
 * Reconstructs one container over a span `[gs, g1)` whose events are lost (the Engine's
 * 256-event buffer overflowed, or the Engine restarted), from its state at both ends and the
 * times inspect still shows: `Created`, `StartedAt` (its last start) and `FinishedAt` (its last
 * exit). What those times prove is kept exact; what they cannot prove becomes `unknown`:
 *
 * - no start/exit inside the span: the state at `gs` holds, if it agrees with the state at `g1`;
 * - only a start at S: not running before S, running from S;
 * - only an exit at F: the state at `gs` holds until F, not running from F;
 * - both: unknown until the earlier of the two (earlier start/exit cycles are possible), then
 *   exact from there.
 *
 * Pause and unpause leave no time behind: a running/paused difference between the two ends that
 * no start or exit explains makes the span (from the last proven point) unknown.
 *
 * @param s0 state at `gs` (`absent`: not known to exist then)
 * @param s1 state at `g1` when known (from the first surviving event, or the current state), else `null`
 * @param v the container as inspect shows it now; `undefined` when it no longer exists
 * @returns the points where its state changes, in time order (the state at `gs` is `s0` unless a point at `gs` says otherwise)
 */
export function reconstructContainer(gs: bigint, g1: bigint, s0: ContainerState | 'absent', s1: ContainerState | 'absent' | null, v?: ContainerView): ContainerPoint[] {
  const pts: ContainerPoint[] = [];
  const put = (at: bigint, state: ContainerState | 'absent', why: string) => {
    const last = pts[pts.length - 1];
    if (last && last.at === at) pts[pts.length - 1] = { at, state, why };
    else pts.push({ at, state, why });
  };
  if (s1 === 'absent') {
    // Does not exist yet at g1 (its `create` is among the surviving events).
    if (s0 === 'absent') return [];
    put(gs, 'unknown', 'gap');
    put(g1, 'absent', 'gap-end');
    return pts;
  }
  if (!v) {
    // Gone now (or never seen): nothing dates what happened in the span.
    if (s1 !== null && s0 === s1) return [];
    put(gs, 'unknown', 'gap');
    if (s1 !== null) put(g1, s1, 'gap-end');
    return pts;
  }
  const inside = (t: bigint | null | undefined, from: bigint): t is bigint => t != null && t > from && t < g1;
  let t = gs;
  let s: ContainerState | 'absent' = s0;
  if (inside(v.created, gs)) {
    if (s0 !== 'absent') put(gs, 'unknown', 'gap'); // an ID cannot exist before its creation: our record is wrong
    put(v.created, 'stopped', 'Created');
    t = v.created;
    s = 'stopped';
  } else if (s0 === 'absent') {
    // Existed before the span but we had no record of it.
    put(gs, 'unknown', 'gap');
    s = 'unknown';
  }
  const S = inside(v.startedAt, t) ? v.startedAt : null;
  const F = inside(v.finishedAt, t) ? v.finishedAt : null;
  let end: ContainerState | 'absent' = s;
  let endAt = t;
  if (S === null && F === null) {
    if (s1 !== null && s1 !== s) {
      put(t, 'unknown', 'gap');
      end = 'unknown';
    }
  } else if (S !== null && F === null) {
    if (s !== 'stopped') put(t, 'unknown', 'gap');
    put(S, 'running', 'StartedAt');
    end = 'running';
    endAt = S;
  } else if (S === null && F !== null) {
    if (!started(s)) put(t, 'unknown', 'gap');
    put(F, 'stopped', 'FinishedAt');
    end = 'stopped';
    endAt = F;
  } else if (S! < F!) {
    put(t, 'unknown', 'gap');
    put(S!, 'running', 'StartedAt');
    put(F!, 'stopped', 'FinishedAt');
    end = 'stopped';
    endAt = F!;
  } else {
    put(t, 'unknown', 'gap');
    put(F!, 'stopped', 'FinishedAt');
    put(S!, 'running', 'StartedAt');
    end = 'running';
    endAt = S!;
  }
  if (s1 !== null && end !== s1 && end !== 'unknown') {
    // The end state disagrees with the last proven point: a pause (or an unseen change) after it.
    put(endAt, 'unknown', 'gap');
    end = 'unknown';
  }
  if (s1 !== null && end !== s1) put(g1, s1, 'gap-end');
  // Drop a leading point that repeats the state at gs.
  if (pts.length && pts[0].at === gs && pts[0].state === s0) pts.shift();
  return pts;
}
