/**
 * Engine events (`GET /events`): the message type, exact nanosecond times, and the parser of
 * the event stream's JSON lines.
 * @module
 */

/** One Engine event message. `timeNano` is kept exact as a decimal string (it exceeds 2^53). */
export interface EngineEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes?: Record<string, string> };
  scope?: string;
  /** Seconds since the epoch. */
  time: number;
  /** Nanoseconds since the epoch, exact. */
  timeNano: string;
  [extra: string]: unknown;
}

/** An Engine `since`/`until` timestamp (`SECONDS.NANOS`) for nanoseconds since the epoch. */
export function engineTimestamp(ns: bigint): string {
  return `${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;
}

/**
 * Parses the Engine's event stream text (one JSON message per line), keeping `timeNano` exact:
 * `JSON.parse` alone would round it to a double.
 */
export function parseEventLines(text: string): EngineEvent[] {
  const out: EngineEvent[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t) continue;
    const ev = JSON.parse(t) as EngineEvent;
    // The message's own key is the last one (Engine field order); a label value cannot fake it.
    const all = [...t.matchAll(/"timeNano"\s*:\s*(\d+)/g)];
    ev.timeNano = all.length ? all[all.length - 1][1] : String(BigInt(ev.time ?? 0) * 1_000_000_000n);
    out.push(ev);
  }
  return out;
}
