/**
 * One image pull through the Engine, read to its end: progress (layers, bytes) from the
 * Engine's JSON messages, and the rule for success: the stream must end cleanly with no
 * `{"error": …}` message in it (errors after the Engine has answered 200 arrive that way).
 *
 * @example
 * const tracker = new PullTracker();
 * await runPull(f.engine, ref, { auth, stallMs: 120_000, onProgress: (p) => save(p) }, tracker);
 *
 * @module
 */
import { EngineError, type Engine, type ProgressStream } from './engine.ts';
import { DomainError } from './errors.ts';
import type { ImageReference } from './reference.ts';

/** Progress of one pull, as shown in the request list while it runs. */
export interface PullProgress {
  /** The Engine's latest status line (`Downloading`, `Extracting`, `Digest: sha256:…`, …). */
  status: string;
  /** Layers seen in the manifest, and those complete (pulled, or already on the Engine). */
  layers: { done: number; total: number };
  /** Compressed bytes downloaded, and the sum of the sizes the Engine has announced so far. */
  bytes: { done: number; total: number };
}

/** A pull that did not succeed; `message` is the registry's (or Engine's) own. */
export class PullError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PullError';
  }
}

/** One message of the Engine's progress stream (`jsonmessage.JSONMessage`). */
export interface PullMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  error?: string;
  errorDetail?: { message?: string; code?: number };
  [k: string]: unknown;
}

interface Layer {
  current: number;
  total?: number;
  done: boolean;
}

/** Status lines that are about the whole image, not one layer (their `id` is a tag or absent). */
const IMAGE_STATUS = /^(Pulling from |Digest: |Status: |Pulling repository)/;

/** Folds the Engine's pull messages into {@link PullProgress}. */
export class PullTracker {
  private layers = new Map<string, Layer>();
  private status = 'Waiting for the Engine';

  /** Applies one message; returns the registry's error message if the message is an error. */
  apply(m: PullMessage): string | undefined {
    if (m.error !== undefined || m.errorDetail?.message !== undefined) return String(m.errorDetail?.message ?? m.error);
    if (typeof m.status === 'string') this.status = m.status;
    if (!m.id || typeof m.status !== 'string' || IMAGE_STATUS.test(m.status)) return undefined;
    let l = this.layers.get(m.id);
    if (!l) this.layers.set(m.id, (l = { current: 0, done: false }));
    const d = m.progressDetail ?? {};
    switch (m.status) {
      case 'Downloading':
        if (typeof d.current === 'number') l.current = d.current;
        if (typeof d.total === 'number' && d.total > 0) l.total = d.total;
        break;
      case 'Verifying Checksum':
      case 'Download complete':
        if (l.total !== undefined) l.current = l.total;
        break;
      case 'Extracting':
        if (typeof d.total === 'number' && d.total > 0 && l.total === undefined) l.total = d.total;
        if (l.total !== undefined) l.current = l.total;
        break;
      case 'Pull complete':
      case 'Already exists':
        l.done = true;
        if (l.total !== undefined) l.current = l.total;
        break;
    }
    return undefined;
  }

  /** The progress so far. */
  snapshot(): PullProgress {
    let done = 0;
    let bytes = 0;
    let total = 0;
    for (const l of this.layers.values()) {
      if (l.done) done++;
      bytes += l.current;
      total += l.total ?? 0;
    }
    return { status: this.status, layers: { done, total: this.layers.size }, bytes: { done: bytes, total } };
  }
}

/** Options of {@link runPull}. */
export interface PullOptions {
  /** `X-Registry-Auth` value, when the registry has credentials. */
  auth?: string;
  /** Abort when the Engine sends nothing for this long (ms). */
  stallMs: number;
  /** Aborts the pull (e.g. the request was denied meanwhile). */
  signal?: AbortSignal;
  /** Called after every message with the progress so far. */
  onProgress?: (p: PullProgress) => void;
}

/**
 * Pulls `ref` (`POST /images/create?fromImage=REPOSITORY&tag=TAG|DIGEST`) and reads the stream
 * to its end. Resolves only when the stream ended cleanly without an error message.
 * @throws PullError with the registry's message (manifest unknown, unauthorized, unknown blob,
 *   connection refused …), on a stall, an abort, or a connection lost mid-stream
 * @throws DomainError 503/504 when the Engine itself cannot be reached
 */
export async function runPull(engine: Engine, ref: ImageReference, opts: PullOptions, tracker = new PullTracker()): Promise<PullProgress> {
  let stream: ProgressStream;
  try {
    stream = await engine.pullImage({ fromImage: ref.repository, tag: ref.digest ?? ref.tag }, { auth: opts.auth });
  } catch (e) {
    if (e instanceof EngineError) throw new PullError(e.engineMessage || e.reason);
    if (e instanceof DomainError && e.code === 'engine_error') throw new PullError(e.detail);
    throw e;
  }
  let stopped: string | undefined;
  const stop = (why: string) => {
    stopped ??= why;
    stream.destroy?.(new Error(why));
  };
  let stall = setTimeout(() => stop(`the pull made no progress for ${Math.round(opts.stallMs / 1000)} s`), opts.stallMs);
  const onAbort = () => stop(`the pull was aborted: ${String(opts.signal?.reason ?? 'aborted')}`);
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const decoder = new TextDecoder();
  let buffered = '';
  let registryError: string | undefined;
  const handleLine = (line: string) => {
    if (!line.trim() || registryError !== undefined) return;
    let m: PullMessage;
    try {
      m = JSON.parse(line);
    } catch {
      return; // not a message: ignore, as the docker CLI does not act on it either
    }
    const err = tracker.apply(m);
    if (err !== undefined) registryError = err;
    else opts.onProgress?.(tracker.snapshot());
  };
  try {
    for await (const chunk of stream) {
      clearTimeout(stall);
      stall = setTimeout(() => stop(`the pull made no progress for ${Math.round(opts.stallMs / 1000)} s`), opts.stallMs);
      buffered += typeof chunk === 'string' ? chunk : decoder.decode(chunk as Uint8Array, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        handleLine(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
      }
      if (registryError !== undefined) {
        stop('error message received');
        break;
      }
    }
    handleLine(buffered + decoder.decode());
  } catch (e) {
    if (registryError === undefined && stopped === undefined) throw new PullError(`the Engine's stream broke off before the pull ended (${(e as Error)?.message ?? e})`);
  } finally {
    clearTimeout(stall);
    opts.signal?.removeEventListener('abort', onAbort);
  }
  if (registryError !== undefined) throw new PullError(registryError);
  if (stopped !== undefined) throw new PullError(stopped);
  return tracker.snapshot();
}
