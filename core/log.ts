/**
 * Structured logs through LogTape (runs on Node and Deno): one record per request (core/route.ts)
 * and every operational message (errors with their cause, failed audit writes, pulls, the uptime
 * job). JSON lines by default; coloured text only when stdout is a terminal (or
 * `SRC_LOG_FORMAT=text`). The level comes from `SRC_LOG_LEVEL` (`trace`, `debug`, `info`,
 * `warning`, `error`, `fatal`; default `info`); an unknown level stops the process at start.
 *
 * Secrets never reach a sink: callers log named fields (never headers, URLs or bodies), and
 * every string of a record passes {@link redact} (bearer tokens, `src_…` API tokens, values of
 * `password=`/`token=`/`secret=` pairs, `Authorization`/`X-Registry-Auth` header values).
 *
 * @example
 * import { log } from './log.ts';
 * log('http').info('request', { requestId, route, status, durationMs });
 * log('uptime').error('facility {facility} failed: {detail}', { facility, detail });
 *
 * @module
 */
import { configureSync, getAnsiColorFormatter, getConfig, getLogger, isLogLevel, jsonLinesFormatter, type Logger, type LogLevel, type LogRecord, type Sink } from '@logtape/logtape';
import { env, stdoutIsTTY, writeStdout } from './runtime.ts';

const SECRET_PATTERNS: [RegExp, string][] = [
  [/src_[a-z0-9]{12}_[A-Za-z0-9_-]{20,}/g, 'src_[redacted]'],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 [redacted]'],
  [/\b(password|passwd|secret|token|auth|authorization|x-registry-auth|identitytoken)(["']?\s*[:=]\s*["']?)[^\s"'&,;}]+/gi, '$1$2[redacted]'],
];
const SECRET_KEYS = /^(password|passwd|secret|token|authorization|auth|x-registry-auth|identitytoken|registryauth)$/i;

/** `text` with every secret-looking part replaced by `[redacted]`. */
export function redact(text: string): string {
  let out = text;
  for (const [re, by] of SECRET_PATTERNS) out = out.replace(re, by);
  return out;
}

function redactValue(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return redact(v);
  if (depth > 4 || v === null || typeof v !== 'object') return v;
  if (v instanceof Error) {
    const e: Record<string, unknown> = { name: v.name, message: redact(v.message) };
    if ((v as { code?: unknown }).code !== undefined) e.code = (v as { code?: unknown }).code;
    if (v.cause !== undefined) e.cause = redactValue(v.cause, depth + 1);
    return e;
  }
  if (Array.isArray(v)) return v.map((x) => redactValue(x, depth + 1));
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, SECRET_KEYS.test(k) ? '[redacted]' : redactValue(x, depth + 1)]));
}

function redacted(r: LogRecord): LogRecord {
  return {
    ...r,
    message: r.message.map((m) => redactValue(m)),
    rawMessage: typeof r.rawMessage === 'string' ? redact(r.rawMessage) : r.rawMessage,
    properties: redactValue(r.properties) as Record<string, unknown>,
  };
}

/** The level from `SRC_LOG_LEVEL` (default `info`). @throws Error naming the variable for an unknown level */
export function logLevel(): LogLevel {
  const raw = (env('SRC_LOG_LEVEL') ?? 'info').toLowerCase();
  const level = raw === 'warn' ? 'warning' : raw;
  if (!isLogLevel(level)) throw new Error(`SRC_LOG_LEVEL: '${raw}' is not a level (trace, debug, info, warning, error, fatal)`);
  return level;
}

let lines: string[] | undefined;

/**
 * Sets up the sinks once per process (also done on the first {@link log}); calling it at start
 * turns a bad `SRC_LOG_LEVEL` into a start-up error.
 * @param opts.capture keep formatted lines in memory instead of writing them (tests)
 */
export function setupLogging(opts: { capture?: boolean; reset?: boolean } = {}): void {
  if (getConfig() && !opts.reset) return;
  const format = env('SRC_LOG_FORMAT') ?? (stdoutIsTTY() ? 'text' : 'json');
  const formatter = format === 'text' ? getAnsiColorFormatter({ timestamp: 'date-time-timezone' }) : jsonLinesFormatter;
  lines = opts.capture ? [] : undefined;
  const sink: Sink = (r) => {
    const line = formatter(redacted(r));
    if (lines) lines.push(line);
    else writeStdout(line.endsWith('\n') ? line : `${line}\n`);
  };
  configureSync({
    reset: true,
    sinks: { out: sink },
    loggers: [
      { category: ['src'], lowestLevel: logLevel(), sinks: ['out'] },
      { category: ['logtape', 'meta'], lowestLevel: 'warning', sinks: ['out'] },
    ],
  });
}

/** Lines written since {@link setupLogging} with `capture` (tests). */
export function capturedLines(): string[] {
  return lines ?? [];
}

/** The logger of one part of the service: `log('http')`, `log('uptime')`, `log('images')`. */
export function log(part: string): Logger {
  setupLogging();
  return getLogger(['src', part]);
}
