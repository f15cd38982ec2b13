/**
 * The uptime summary (get-uptime-summary): an app's recorded transitions and samples over the
 * last hour, day, week or month, read back from the tables the uptime job writes
 * (core/uptime-job.ts, core/uptime-store.ts), as the spec's map of UTC seconds to running, or
 * with `detail` as intervals and seconds per state.
 *
 * @example
 * const summary = await uptimeSummary(getFacility('demo'), 'busybox--alice', 'day');
 *
 * @module
 */
import type { Client } from '@libsql/client';
import { DomainError } from './errors.ts';
import type { Facility } from './facility.ts';
import { isoToNs, msToNs, nsToIso, NS_PER_S, secondKey, type AppState, type TransitionSource } from './uptime-model.ts';
import type { UPTIME_DURATIONS } from './schemas.ts';
import { openUptimeDb, readAppHistory, type AppHistory } from './uptime-store.ts';

/** The summary windows; a month is 30 days, as the old API counted it. */
export type UptimeDuration = (typeof UPTIME_DURATIONS)[number];
/** Seconds in each summary window. */
export const DURATION_SECONDS: Record<UptimeDuration, number> = { hour: 3600, day: 86_400, week: 7 * 86_400, month: 30 * 86_400 };

/** One stretch of an app's state. */
export interface UptimeInterval {
  from: string;
  to: string;
  state: AppState;
}

/** The `detail=true` answer. */
export interface UptimeDetail {
  facility: string;
  name: string;
  duration: UptimeDuration;
  /** The window, `[from, to]` (UTC, nanoseconds). */
  from: string;
  to: string;
  /** Up to when the job has recorded this facility (its last checkpoint), or `null`. */
  recordedUntil: string | null;
  /** Since when the job cannot reach the facility's Engine, or `null`. */
  engineUnreachableSince: string | null;
  /** Running time / (running + not-running time) in the window, from the transitions; `null` if none is known. */
  uptimeRatio: number | null;
  /** Seconds of the window per state; `unrecorded` = before the app's first record or after the last run. */
  seconds: { running: number; notRunning: number; unknown: number; unrecorded: number };
  intervals: UptimeInterval[];
  transitions: { at: string; state: AppState; source: TransitionSource; action: string | null }[];
  samples: { at: string; state: AppState }[];
}

/** Options of a summary: `detail`, the window's end `nowMs` (default now), the database, and `exists`: whether an app without any record exists (the route asks the facility's backend). */
export interface SummaryOptions {
  detail?: boolean;
  nowMs?: number;
  db?: Client;
  exists?: (name: string) => Promise<boolean>;
}

/**
 * An app's uptime over the last `duration`.
 *
 * Default: the spec's `{ "2023-06-20T13:50:45Z": true, … }` (UTC second -> running). Keys are
 * the job's samples plus every recorded transition (so a stop between two samples shows);
 * paused counts as not running; unknown samples and stretches (Engine unreachable) are left
 * out. Points in the same second: the last one gives the key its value (the state at the end
 * of that second; `detail=true` has the sub-second changes).
 *
 * `detail`: {@link UptimeDetail}.
 *
 * An app with no record yet (created since the job's last run) answers `{}` (`detail`: an empty
 * detail, `uptimeRatio` null) when `opts.exists` says it exists.
 *
 * @throws DomainError 404 `app_not_found` when the facility has no uptime record of the app and it does not exist
 */
export async function uptimeSummary(f: Facility, name: string, duration: UptimeDuration, opts: SummaryOptions = {}): Promise<Record<string, boolean> | UptimeDetail> {
  const { h, from, to } = await loadHistory(f, name, duration, opts);
  if (!opts.detail) return Object.fromEntries(summaryPoints(h));
  return detailOf(f, name, duration, h, from, to);
}

/**
 * The same answer as {@link uptimeSummary}, as JSON text: the default map of a month of
 * one-minute samples has ~43,000 keys, and writing the text directly is several times faster
 * than building the object first.
 */
export async function uptimeSummaryJson(f: Facility, name: string, duration: UptimeDuration, opts: SummaryOptions = {}): Promise<string> {
  const { h, from, to } = await loadHistory(f, name, duration, opts);
  if (opts.detail) return JSON.stringify(detailOf(f, name, duration, h, from, to));
  return summaryText(h) ?? pointsText(summaryPoints(h));
}

/** `{"key":true,…}` of {@link summaryPoints}' answer. */
export function pointsText(points: [string, boolean][]): string {
  const parts: string[] = [];
  for (const [k, up] of points) parts.push(`"${k}":${up}`);
  return `{${parts.join(',')}}`;
}

/**
 * {@link pointsText} of {@link summaryPoints}, written in one pass over the samples' text as the
 * database answered it (no object per sample: a month is ~43,000 of them), merged with the
 * transitions; `undefined` when the text is not in time order (then the sorting path answers).
 */
export function summaryText(h: Pick<AppHistory, 'sampleText' | 'transitions'>): string | undefined {
  const text = h.sampleText;
  const tr = h.transitions;
  let out = '';
  let key = '';
  let up = false;
  const point = (at: string, state: string) => {
    if (state === 'unknown') return;
    const k = secondKey(at);
    if (k !== key) {
      if (key) out += `,"${key}":${up}`;
      key = k;
    }
    up = state === 'running';
  };
  let j = 0;
  let prev = '';
  for (let pos = 0; pos < text.length; ) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = text.length;
    if (nl > pos) {
      const sp = text.lastIndexOf(' ', nl - 1);
      const at = text.slice(pos, sp);
      if (at < prev) return undefined;
      prev = at;
      // a sample comes before a transition of the same time (as in summaryPoints)
      while (j < tr.length && tr[j].at < at) point(tr[j].at, tr[j++].state);
      point(at, text.slice(sp + 1, nl));
    }
    pos = nl + 1;
  }
  while (j < tr.length) point(tr[j].at, tr[j++].state);
  if (key) out += `,"${key}":${up}`;
  return `{${out.slice(1)}}`;
}

/**
 * The app's history in the window ending now (`opts.nowMs`, default `Date.now()`, ms) and
 * `duration` long; `from` and `to` in ns.
 * @throws DomainError `app_not_found` when the facility has no uptime record of the app and `opts.exists` does not say it exists
 */
async function loadHistory(f: Facility, name: string, duration: UptimeDuration, opts: SummaryOptions) {
  const db = await openUptimeDb(opts.db);
  const to = msToNs(opts.nowMs ?? Date.now());
  const from = to - BigInt(DURATION_SECONDS[duration]) * NS_PER_S;
  const h = await readAppHistory(db, f.id, name, nsToIso(from), nsToIso(to));
  if (!h.known && !(await opts.exists?.(name))) {
    throw new DomainError('app_not_found', `No uptime history for '${name}' in facility '${f.id}' (never recorded, or pruned after the retention)`, { name });
  }
  return { h, from, to };
}

/**
 * The default answer's points, in time order: samples and transitions (both already sorted by
 * time) merged, unknown ones left out, one per UTC second (the last point of a second wins).
 */
export function summaryPoints(h: Pick<AppHistory, 'samples' | 'transitions'>): [string, boolean][] {
  const a = h.samples;
  const b = h.transitions;
  const out: [string, boolean][] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const p = j >= b.length || (i < a.length && a[i].at <= b[j].at) ? a[i++] : b[j++];
    if (p.state === 'unknown') continue;
    const k = secondKey(p.at);
    const up = p.state === 'running';
    const last = out[out.length - 1];
    if (last && last[0] === k) last[1] = up;
    else out.push([k, up]);
  }
  return out;
}

/** The `detail=true` answer: the transitions as intervals (clipped to the window and the last checkpoint) and seconds per state. */
function detailOf(f: Facility, name: string, duration: UptimeDuration, h: AppHistory, from: bigint, to: bigint): UptimeDetail {
  const recordedUntil = h.checkpoint?.checkpointAt ?? null;
  const unreachable = h.checkpoint?.unreachableSince ?? null;
  const intervals: { from: bigint; to: bigint; state: AppState }[] = [];
  const add = (a: bigint, b: bigint, state: AppState) => {
    if (b <= a) return;
    const last = intervals[intervals.length - 1];
    if (last && last.state === state && last.to === a) last.to = b;
    else intervals.push({ from: a, to: b, state });
  };
  const end = recordedUntil !== null && recordedUntil < to ? recordedUntil : to;
  let state: AppState | undefined = h.before?.state;
  let at = from;
  for (const t of h.transitions) {
    const tAt = isoToNs(t.at)!;
    if (state !== undefined) add(at, tAt < end ? tAt : end, state); // bigint: no Math.min
    state = t.state;
    at = tAt;
  }
  if (state !== undefined) add(at, end, state);
  if (unreachable !== null && recordedUntil !== null && recordedUntil < to && state !== undefined) {
    add(recordedUntil > from ? recordedUntil : from, to, 'unknown');
  }
  const secs = { running: 0, notRunning: 0, unknown: 0, unrecorded: 0 };
  for (const i of intervals) {
    const s = Number(i.to - i.from) / 1e9;
    if (i.state === 'running') secs.running += s;
    else if (i.state === 'not-running') secs.notRunning += s;
    else secs.unknown += s;
  }
  secs.unrecorded = Math.max(0, DURATION_SECONDS[duration] - secs.running - secs.notRunning - secs.unknown);
  const round = (x: number) => Math.round(x * 1e6) / 1e6;
  const known = secs.running + secs.notRunning;
  return {
    facility: f.id,
    name,
    duration,
    from: nsToIso(from),
    to: nsToIso(to),
    recordedUntil: recordedUntil === null ? null : nsToIso(recordedUntil),
    engineUnreachableSince: unreachable === null ? null : nsToIso(unreachable),
    uptimeRatio: known > 0 ? round(secs.running / known) : null,
    seconds: { running: round(secs.running), notRunning: round(secs.notRunning), unknown: round(secs.unknown), unrecorded: round(secs.unrecorded) },
    intervals: intervals.map((i) => ({ from: nsToIso(i.from), to: nsToIso(i.to), state: i.state })),
    transitions: h.transitions,
    samples: h.samples,
  };
}
