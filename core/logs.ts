/**
 * App logs (`get-app-logs`): the Engine's log stream of a container turned into whole lines of
 * stdout and stderr, answered as one JSON object (capped) or followed as Server-Sent Events.
 *
 * - The Engine multiplexes stdout and stderr of a container without a TTY into frames with an
 *   8-byte header (`[stream, 0, 0, 0, size uint32 BE]`, stream 1 = stdout, 2 = stderr); with a
 *   TTY the stream is the raw terminal output (all `stdout`). Frames and lines are cut anywhere
 *   by chunk boundaries; {@link LogDemuxer} reassembles both.
 * - The Engine cuts lines longer than 16 KiB into several frames (with `timestamps`, each piece
 *   gets a timestamp of its own): pieces are joined, so a line is kept whole.
 * - `tail` is 200 lines by default, at most {@link MAX_TAIL}; an answer is at most
 *   {@link MAX_ANSWER_BYTES} of lines, and says so (`truncated`) when the cap is hit.
 *
 * @example
 * const d = new LogDemuxer({ tty: false, timestamps: false });
 * for (const chunk of chunks) for (const line of d.push(chunk)) console.log(line.stream, line.line);
 * for (const line of d.end()) …
 *
 * @module
 */
import * as v from 'valibot';

/** Most lines `tail` may ask for. */
export const MAX_TAIL = 10_000;
/** Lines answered when `tail` is not given. */
export const DEFAULT_TAIL = 200;
/** Largest answer (bytes of line text) of a non-follow read; the SSE stream ends at this much too per line. */
export const MAX_ANSWER_BYTES = 10 * 1024 * 1024;

/** One line of an app's output. */
export interface LogLine {
  stream: 'stdout' | 'stderr';
  /** The text, without its newline. */
  line: string;
  /** The Engine's RFC 3339 nanosecond timestamp (with `timestamps=true`). */
  time?: string;
  /** Swarm mode: the task the line came from. */
  task?: string;
}

/** What to read (the Engine's `GET /containers/{id}/logs` parameters). */
export interface LogOptions {
  tail: number;
  /** Engine timestamps `SECONDS[.NANOS]`. */
  since?: string;
  until?: string;
  timestamps: boolean;
  follow: boolean;
}

/**
 * Reassembles the Engine's log stream into lines: frames split across chunks, lines split
 * across frames (and across the Engine's 16 KiB pieces), CRLF line ends. A TTY stream is taken
 * as stdout. A line never grows beyond `maxLine` bytes: the rest is cut into further lines.
 */
export class LogDemuxer {
  private buf: Uint8Array = new Uint8Array(0);
  private readonly decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };
  /** Each stream's line so far; `cut`: the last frame ended inside it (the Engine's 16 KiB pieces). */
  private readonly pending: Record<'stdout' | 'stderr', { text: string; time?: string; cut?: boolean } | undefined> = { stdout: undefined, stderr: undefined };

  constructor(private readonly opts: { tty: boolean; timestamps: boolean; maxLine?: number }) {}

  /** Feeds one chunk; returns the lines it completed. */
  push(chunk: Uint8Array | string): LogLine[] {
    const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk;
    const out: LogLine[] = [];
    if (this.opts.tty) {
      this.text('stdout', this.decoders.stdout.decode(bytes, { stream: true }), out, false);
      return out;
    }
    this.buf = this.buf.length ? concat(this.buf, bytes) : bytes;
    let off = 0;
    while (this.buf.length - off >= 8) {
      const size = ((this.buf[off + 4] << 24) >>> 0) + (this.buf[off + 5] << 16) + (this.buf[off + 6] << 8) + this.buf[off + 7];
      if (this.buf.length - off - 8 < size) break;
      const kind = this.buf[off];
      const payload = this.buf.subarray(off + 8, off + 8 + size);
      off += 8 + size;
      const stream = kind === 2 ? 'stderr' : 'stdout'; // 0 (stdin) does not occur in logs; 1 stdout
      this.text(stream, this.decoders[stream].decode(payload, { stream: true }), out, true);
    }
    this.buf = this.buf.slice(off);
    return out;
  }

  /** Ends the stream: the lines still pending (a last line without a newline). */
  end(): LogLine[] {
    const out: LogLine[] = [];
    for (const s of ['stdout', 'stderr'] as const) {
      const rest = this.decoders[s].decode();
      if (rest) this.text(s, rest, out, false);
      const p = this.pending[s];
      if (p && p.text !== '') out.push(this.lineOf(s, p.text, p.time));
      this.pending[s] = undefined;
    }
    return out;
  }

  /**
   * Adds text of one stream. `framed`: `text` is one whole frame, so a frame ending inside a
   * line is the Engine's cut, and with timestamps the next frame's own timestamp is dropped.
   */
  private text(stream: 'stdout' | 'stderr', text: string, out: LogLine[], framed: boolean): void {
    const max = this.opts.maxLine ?? MAX_ANSWER_BYTES;
    let rest = text;
    while (rest.length > 0) {
      let p = this.pending[stream];
      if (!p) {
        let time: string | undefined;
        if (this.opts.timestamps) {
          const sp = rest.indexOf(' ');
          const nl = rest.indexOf('\n');
          if (sp >= 0 && (nl < 0 || sp < nl)) {
            time = rest.slice(0, sp);
            rest = rest.slice(sp + 1);
          }
        }
        p = this.pending[stream] = { text: '', time };
      } else if (this.opts.timestamps && p.cut) {
        // the Engine's next piece of a line longer than 16 KiB: its own timestamp, then the text
        const m = rest.match(/^\d{4}-\d\d-\d\dT[^ \n]+ /);
        if (m) rest = rest.slice(m[0].length);
        p.cut = false;
      }
      const nl = rest.indexOf('\n');
      if (nl < 0) {
        p.text += rest;
        p.cut = framed;
        if (p.text.length > max) {
          out.push(this.lineOf(stream, p.text, p.time));
          this.pending[stream] = undefined;
        }
        return;
      }
      p.text += rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      out.push(this.lineOf(stream, p.text.endsWith('\r') ? p.text.slice(0, -1) : p.text, p.time));
      this.pending[stream] = undefined;
    }
  }

  private lineOf(stream: 'stdout' | 'stderr', line: string, time: string | undefined): LogLine {
    return time === undefined ? { stream, line } : { stream, line, time };
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** An app's log lines being read, and how to stop reading them (ends the Engine streams). */
export interface LogSource {
  lines: AsyncGenerator<LogLine>;
  close(): void;
}

/** Lines of a raw Engine log stream (the caller's `chunks`), ending when it ends. */
export async function* logLines(chunks: AsyncIterable<Uint8Array | string>, opts: { tty: boolean; timestamps: boolean; task?: string }): AsyncGenerator<LogLine> {
  const d = new LogDemuxer(opts);
  const tag = (l: LogLine): LogLine => (opts.task ? { ...l, task: opts.task } : l);
  for await (const chunk of chunks) for (const l of d.push(chunk)) yield tag(l);
  for (const l of d.end()) yield tag(l);
}

/**
 * Merges several line sources (a service's tasks) in arrival order; ends when all have ended.
 * `return()` ends every source.
 */
export async function* mergeLines(sources: AsyncIterator<LogLine>[]): AsyncGenerator<LogLine> {
  const next = (i: number) => sources[i].next().then((r) => ({ i, r }));
  const waiting = new Map(sources.map((_, i) => [i, next(i)]));
  try {
    while (waiting.size > 0) {
      const { i, r } = await Promise.race(waiting.values());
      if (r.done) waiting.delete(i);
      else {
        waiting.set(i, next(i));
        yield r.value;
      }
    }
  } finally {
    await Promise.allSettled(sources.map((s) => s.return?.()));
  }
}

// --- query parameters -------------------------------------------------------------------------

/** `tail`: lines from the end, 0 to {@link MAX_TAIL}. */
export const tailSchema = v.pipe(
  v.string(),
  v.regex(/^\d{1,6}$/, `must be a whole number of lines, 0 to ${MAX_TAIL}`),
  v.transform(Number),
  v.maxValue(MAX_TAIL, `must be at most ${MAX_TAIL} (ask with since/until for older lines)`),
);

/**
 * `since`/`until` as the Engine's `SECONDS.NANOS`: an RFC 3339 time (`2026-12-04T10:00:00Z`,
 * fractions kept to the nanosecond), Unix seconds (`1764842400`, `1764842400.5`), or a duration
 * back from now (`90s`, `15m`, `2h`, `1d`), as `docker logs --since` takes them.
 */
export function logTimeSchema(nowMs: () => number = Date.now) {
  return v.pipe(
    v.string(),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const t = engineTime(dataset.value, nowMs());
      if (t === undefined) {
        addIssue({ message: 'must be an RFC 3339 time with a zone (2026-12-04T10:00:00Z), Unix seconds, or a duration back from now (90s, 15m, 2h, 1d)' });
        return NEVER;
      }
      return t;
    }),
  );
}

/** `s` as `SECONDS.NANOS`, or `undefined` if it is none of the accepted forms. */
export function engineTime(s: string, nowMs: number): string | undefined {
  if (/^\d{1,12}(\.\d{1,9})?$/.test(s)) {
    const [sec, frac = ''] = s.split('.');
    return `${sec}.${frac.padEnd(9, '0')}`;
  }
  const d = s.match(/^(\d{1,9})(s|m|h|d)$/);
  if (d) {
    const ms = nowMs - Number(d[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[d[2] as 's' | 'm' | 'h' | 'd'];
    return ms < 0 ? '0.000000000' : `${Math.floor(ms / 1000)}.${String((ms % 1000) * 1_000_000).padStart(9, '0')}`;
  }
  const m = s.match(/^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms) || ms < 0) return undefined;
  return `${Math.floor(ms / 1000)}.${(m[2] ?? '').padEnd(9, '0')}`;
}

// --- answers ----------------------------------------------------------------------------------

/** The answer of a non-follow read. */
export interface LogsAnswer {
  name: string;
  lines: LogLine[];
  /** `null`, or why lines are missing: the cap of {@link MAX_ANSWER_BYTES} was hit. */
  truncated: string | null;
}

/**
 * Reads `lines` up to {@link MAX_ANSWER_BYTES} of text (the first lines kept: later ones are
 * dropped, and `truncated` says so; ask with a smaller `tail` or a later `since`).
 */
export async function collectLines(name: string, lines: AsyncIterable<LogLine>, maxBytes = MAX_ANSWER_BYTES): Promise<LogsAnswer> {
  const out: LogLine[] = [];
  let bytes = 0;
  for await (const l of lines) {
    bytes += l.line.length + 1;
    if (bytes > maxBytes) {
      return { name, lines: out, truncated: `answer capped at ${maxBytes} bytes of log text (${out.length} lines); ask with a smaller tail or a later since` };
    }
    out.push(l);
  }
  return { name, lines: out, truncated: null };
}

/**
 * The lines as a Server-Sent Events stream: `event: log` with the line's JSON (`stream`,
 * `line`, `time`, `task`) per line, a `: keep-alive` comment every `heartbeatMs`, and a final
 * `event: end` (`{"reason": …}`) when the app's output ends (it stopped). The stream stops
 * reading when the client leaves (`cancel`), which ends the Engine stream.
 */
export function sseStream(source: LogSource, heartbeatMs = 15_000): ReadableStream<Uint8Array> {
  const lines = source.lines;
  const enc = new TextEncoder();
  let beat: ReturnType<typeof setInterval> | undefined;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(enc.encode(': streaming app logs\n\n'));
      beat = setInterval(() => {
        try {
          controller.enqueue(enc.encode(': keep-alive\n\n'));
        } catch {
          clearInterval(beat);
        }
      }, heartbeatMs);
      (async () => {
        let reason = 'the app stopped';
        try {
          for await (const l of lines) controller.enqueue(enc.encode(`event: log\ndata: ${JSON.stringify(l)}\n\n`));
        } catch (e) {
          reason = `the log stream failed: ${(e as Error)?.message ?? e}`;
        }
        clearInterval(beat);
        try {
          controller.enqueue(enc.encode(`event: end\ndata: ${JSON.stringify({ reason })}\n\n`));
          controller.close();
        } catch {
          /* the client left */
        }
      })();
    },
    cancel() {
      clearInterval(beat);
      source.close();
    },
  });
}
