/**
 * The runtime adapter: the only module in `core/` that touches Node built-ins for files and
 * the environment. Node 20 and Deno 2 both provide `node:fs` and `process`, so one
 * implementation serves both; anything runtime-specific added later belongs here too.
 *
 * @module
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname } from 'node:path';
import { Agent } from 'node:http';
import { setImmediate as nodeSetImmediate } from 'node:timers';
import { setMaxListeners } from 'node:events';

/**
 * Reads an environment variable.
 * @param name variable name, e.g. `SRC_CONFIG`
 * @returns its value, or `undefined` when unset or empty
 */
export function env(name: string): string | undefined {
  const v = globalThis.process?.env?.[name];
  return v === undefined || v === '' ? undefined : v;
}

/** Reads a UTF-8 file, or returns `undefined` if it does not exist. Other I/O errors throw. */
export function readTextFile(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  return readFileSync(path, 'utf8');
}

/**
 * Writes a UTF-8 file, creating its directory. `mode` (e.g. `0o600`) is applied after writing.
 */
export function writeTextFile(path: string, text: string, mode?: number): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text, mode === undefined ? undefined : { mode });
  if (mode !== undefined) chmodSync(path, mode);
}

/** Creates a directory and its parents; no error if it exists. `mode` (e.g. `0o700`) applies to a new directory. */
export function ensureDir(path: string, mode?: number): void {
  if (existsSync(path)) return;
  mkdirSync(path, { recursive: true });
  if (mode !== undefined) chmodSync(path, mode);
}

import { timingSafeEqual as nodeTimingSafeEqual } from 'node:crypto';

/** Constant-time comparison of two equal-length byte strings (false if lengths differ). */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && nodeTimingSafeEqual(a, b);
}

/**
 * Async mutual exclusion in one process: `run(fn)` waits for the calls before it, then runs
 * `fn`. `fn` must not call `run` of the same gate (it would wait for itself): each caller's
 * `fn` is one statement, batch or transaction. (No `AsyncLocalStorage` to detect nesting: its
 * promise hooks cost every request of the process ~0.4 ms on Node 20.)
 */
export class WriteGate {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const turn = this.tail.then(fn);
    this.tail = turn.catch(() => undefined);
    return turn;
  }
}

let denoEngineAgent: Agent | undefined;

/**
 * The `node:http` agent for plain-HTTP Engine connections (Unix socket, `tcp://` without TLS):
 * `undefined` (Node's default keep-alive agent) on Node; on Deno an agent without keep-alive.
 * Deno 2.9's `node:http` re-sends a request that was aborted on a kept-alive socket and then
 * never reports the abort, so a cancelled Engine read would be replayed and held until its
 * timeout (checked by test/e2e/cancel.test.ts); fresh connections abort cleanly.
 */
export function engineHttpAgent(): Agent | undefined {
  if (!('Deno' in globalThis)) return undefined;
  denoEngineAgent ??= new Agent({ keepAlive: false });
  return denoEngineAgent;
}

/** Whether standard output is a terminal (colour in logs only then). */
export function stdoutIsTTY(): boolean {
  return !!globalThis.process?.stdout?.isTTY;
}

/** Writes `text` to standard output, as is. */
export function writeStdout(text: string): void {
  const out = globalThis.process?.stdout;
  if (out?.write) out.write(text);
  else console.log(text.replace(/\n$/, ''));
}

/**
 * Runs `fn` once the current I/O callbacks are done (`setImmediate` from `node:timers`, which Deno
 * provides too): work that must not delay an answer being written, such as its log line. Calls
 * run in the order they were scheduled.
 */
export function afterResponse(fn: () => void): void {
  nodeSetImmediate(fn);
}

/**
 * Lifts the listener limit of a request's `signal`: a read that fans out (stats of every app)
 * makes one Engine call per app, each listening to it, and Node would warn of a leak past 10.
 */
export function manyListeners(signal: AbortSignal): AbortSignal {
  setMaxListeners(0, signal);
  return signal;
}
