/**
 * core/image-pull.ts without an Engine: the progress tracker on message sequences recorded from
 * Engine 20.10 pulls, and the success rule (a clean end, no `{"error"}` line, no stall) on
 * streams fed to `runPull` through a stand-in for `Engine.pullImage`.
 */
import { describe, expect, it } from 'vitest';
import { EngineError, type Engine } from '../../core/engine.ts';
import { PullError, PullTracker, runPull } from '../../core/image-pull.ts';
import { parseImageReference } from '../../core/reference.ts';

/** Recorded: `POST /images/create?fromImage=127.0.0.1:5001/exp/rand2&tag=sha256:…` (one new layer). */
const DIGEST_PULL = [
  { status: 'Pulling from exp/rand2', id: '127.0.0.1:5001/exp/rand2@sha256:40297c92e183fa34409182633c2fc66e1acf05bc95f83d39fc6c727fed7752cc' },
  { status: 'Pulling fs layer', progressDetail: {}, id: 'f38d456fb8cf' },
  { status: 'Downloading', progressDetail: { current: 3645, total: 300349 }, id: 'f38d456fb8cf' },
  { status: 'Download complete', progressDetail: {}, id: 'f38d456fb8cf' },
  { status: 'Extracting', progressDetail: { current: 32768, total: 300349 }, id: 'f38d456fb8cf' },
  { status: 'Extracting', progressDetail: { current: 300349, total: 300349 }, id: 'f38d456fb8cf' },
  { status: 'Pull complete', progressDetail: {}, id: 'f38d456fb8cf' },
  { status: 'Digest: sha256:40297c92e183fa34409182633c2fc66e1acf05bc95f83d39fc6c727fed7752cc' },
  { status: 'Status: Downloaded newer image for 127.0.0.1:5001/exp/rand2@sha256:40297c92e183fa34409182633c2fc66e1acf05bc95f83d39fc6c727fed7752cc' },
];
/** Recorded: a layer blob deleted from the registry: the Engine answers 200, then the error. */
const BROKEN_PULL = [
  { status: 'Pulling from exp/rand', id: '1' },
  { status: 'Pulling fs layer', progressDetail: {}, id: '8316eeca126c' },
  { status: 'Downloading', progressDetail: {}, id: '8316eeca126c' },
  { errorDetail: { message: 'unknown blob' }, error: 'unknown blob' },
];

describe('PullTracker', () => {
  it('counts layers and bytes as they arrive', () => {
    const t = new PullTracker();
    const seen = DIGEST_PULL.map((m) => (t.apply(m), t.snapshot()));
    expect(seen[1]).toMatchObject({ layers: { done: 0, total: 1 }, bytes: { done: 0, total: 0 } });
    expect(seen[2]).toMatchObject({ status: 'Downloading', bytes: { done: 3645, total: 300349 } });
    expect(seen[3].bytes).toEqual({ done: 300349, total: 300349 });
    expect(seen[6].layers).toEqual({ done: 1, total: 1 });
    expect(seen[8]).toEqual({ status: DIGEST_PULL[8].status, layers: { done: 1, total: 1 }, bytes: { done: 300349, total: 300349 } });
  });

  it('layers already on the Engine count as done without bytes', () => {
    const t = new PullTracker();
    for (const m of [
      { status: 'Pulling from a/b', id: '1' },
      { status: 'Already exists', progressDetail: {}, id: 'aaaaaaaaaaaa' },
      { status: 'Pulling fs layer', progressDetail: {}, id: 'bbbbbbbbbbbb' },
      { status: 'Waiting', progressDetail: {}, id: 'bbbbbbbbbbbb' },
    ])
      t.apply(m);
    expect(t.snapshot()).toMatchObject({ layers: { done: 1, total: 2 }, bytes: { done: 0, total: 0 } });
  });

  it('returns the registry message of an error line', () => {
    const t = new PullTracker();
    expect(BROKEN_PULL.map((m) => t.apply(m)).at(-1)).toBe('unknown blob');
  });
});

/** A stand-in Engine whose pull answers the given chunks (or throws). */
function fakeEngine(chunks: string[] | (() => never), opts: { hang?: boolean; brokenAfter?: number } = {}): Engine {
  return {
    pullImage: async () => {
      if (typeof chunks === 'function') chunks();
      let destroyed: Error | undefined;
      const list = chunks as string[];
      const stream = {
        destroy: (e?: Error) => (destroyed = e ?? new Error('destroyed')),
        async *[Symbol.asyncIterator]() {
          for (let i = 0; i < list.length; i++) {
            if (destroyed) throw destroyed;
            if (opts.brokenAfter === i) throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
            yield new TextEncoder().encode(list[i]);
          }
          while (opts.hang && !destroyed) await new Promise((r) => setTimeout(r, 10));
          if (destroyed) throw destroyed;
        },
      };
      return stream;
    },
  } as unknown as Engine;
}
const ref = parseImageReference('127.0.0.1:5001/exp/rand2:1');
const lines = (msgs: object[]) => msgs.map((m) => JSON.stringify(m) + '\r\n');

describe('runPull: success only at a clean end without an error line', () => {
  it('a clean stream resolves with the final progress (lines split across chunks)', async () => {
    const text = lines(DIGEST_PULL).join('');
    const chunks = [text.slice(0, 17), text.slice(17, 300), text.slice(300)];
    const seen: number[] = [];
    const p = await runPull(fakeEngine(chunks), ref, { stallMs: 1000, onProgress: (x) => seen.push(x.bytes.done) });
    expect(p.layers).toEqual({ done: 1, total: 1 });
    expect(seen).toContain(3645);
  });

  it('an {"error"} line inside the 200 stream is a PullError with the registry message', async () => {
    await expect(runPull(fakeEngine(lines(BROKEN_PULL)), ref, { stallMs: 1000 })).rejects.toThrow(new PullError('unknown blob'));
  });

  it('a stream that breaks off is a failure, not a success', async () => {
    await expect(runPull(fakeEngine(lines(DIGEST_PULL), { brokenAfter: 3 }), ref, { stallMs: 1000 })).rejects.toThrow(/broke off/);
  });

  it('a stream with no progress for stallMs is aborted', async () => {
    await expect(runPull(fakeEngine(lines(DIGEST_PULL.slice(0, 3)), { hang: true }), ref, { stallMs: 100 })).rejects.toThrow(/no progress for/);
  });

  it('an abort signal stops it', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort('the request was denied'), 50);
    await expect(runPull(fakeEngine(lines(DIGEST_PULL.slice(0, 3)), { hang: true }), ref, { stallMs: 5000, signal: ac.signal })).rejects.toThrow(/denied/);
  });

  it("an Engine error before the stream (404 manifest unknown) is a PullError with the Engine's message", async () => {
    const engine = fakeEngine(() => {
      throw new EngineError(404, 'repository does not exist or no read access', 'manifest for x:1 not found: manifest unknown: manifest unknown');
    });
    await expect(runPull(engine, ref, { stallMs: 1000 })).rejects.toThrow('manifest for x:1 not found: manifest unknown: manifest unknown');
  });
});
