/**
 * Helpers of the image tests: the local registries (scripts/registry.sh), images built with
 * random layers and pushed through the Engine API, a throttling TCP proxy in front of a
 * registry (to watch a pull's progress), and waiting for a request's state.
 */
import { execFileSync } from 'node:child_process';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import { EngineError, registryAuthHeader, type ProgressStream } from '../core/engine.ts';
import { settlePulls } from '../core/images/pull-worker.ts';
import { call, engine } from './helpers.ts';

/** The registries scripts/registry.sh runs (and test/fixtures/config.json names). */
export const REG = { open: '127.0.0.1:5001', auth: '127.0.0.1:5002' } as const;
/** The auth registry's throwaway test credentials (also in test/fixtures/config.json for `demo`). */
export const REG_USER = 'src-test';
export const REG_PASSWORD = 'src-test-password';
export const REG_AUTH = registryAuthHeader({ username: REG_USER, password: REG_PASSWORD, serveraddress: REG.auth });

/** A namespace unique to this test file's run: `srcit<random>`. */
export const RUN = `srcit${Math.random().toString(36).slice(2, 8)}`;

const ROOT = new URL('..', import.meta.url).pathname;

/** Starts the registries for this file (shared with other files; the last one out stops them). */
export function useRegistries(): void {
  const holder = `${process.pid}-${RUN}`;
  beforeAll(() => {
    execFileSync('bash', [`${ROOT}scripts/registry.sh`, 'up', holder], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 120_000 });
  }, 180_000);
  afterAll(async () => {
    await settlePulls();
    execFileSync('bash', [`${ROOT}scripts/registry.sh`, 'down', holder], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 60_000 });
  }, 120_000);
}

/** Builds `ref` from src-test/busybox with one random layer per size (KB); returns the image ID. */
export function buildImage(ref: string, ...layersKB: number[]): string {
  return execFileSync('bash', [`${ROOT}scripts/make-test-image.sh`, ref, ...layersKB.map(String)], { encoding: 'utf8', timeout: 120_000 }).trim();
}

/** Reads a pull or push stream to its end; throws the first `{"error"}` message. Returns all messages. */
export async function readStream(stream: ProgressStream): Promise<any[]> {
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of stream) text += typeof chunk === 'string' ? chunk : decoder.decode(chunk as Uint8Array, { stream: true });
  const msgs = text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
  const err = msgs.find((m) => m.error);
  if (err) throw new Error(`stream error: ${err.error}`);
  return msgs;
}

/** Pushes `repo:tag` through the Engine API (`POST /images/{name}/push`); returns the manifest digest. */
export async function push(repo: string, tag: string, auth?: string): Promise<string> {
  const msgs = await readStream(await engine.pushImage(repo, tag, { auth }));
  const digest = msgs.find((m) => m.aux?.Digest)?.aux.Digest;
  if (!digest) throw new Error(`push of ${repo}:${tag} reported no digest: ${JSON.stringify(msgs.slice(-3))}`);
  return digest;
}

/** `docker rmi` of each reference (untag; the image goes when no tag is left); missing ones are fine. */
export async function removeImages(...refs: string[]): Promise<void> {
  for (const r of refs) {
    await engine.removeImage(r).catch((e) => {
      if (!(e instanceof EngineError && e.statusCode === 404)) throw e;
    });
  }
}

/** Whether the Engine has an image by this reference. */
export async function hasImage(ref: string): Promise<boolean> {
  try {
    await engine.inspectImage(ref);
    return true;
  } catch (e) {
    if (e instanceof EngineError && e.statusCode === 404) return false;
    throw e;
  }
}

/** Every response body this file saw, to check that no credential ever appears in one. */
export const seenBodies: string[] = [];

/** `call` that remembers the body. */
export async function api(method: string, path: string, init: Parameters<typeof call>[2] = {}) {
  const r = await call(method, path, init);
  seenBodies.push(typeof r.body === 'string' ? r.body : JSON.stringify(r.body));
  return r;
}

/** The request record of `image` in `facility` (via get-image-requests). */
export async function record(facility: string, image: string): Promise<any> {
  const r = await api('GET', `/${facility}/get-image-requests?image=${encodeURIComponent(image)}`);
  if (r.status !== 200) throw new Error(`get-image-requests: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body[0];
}

/** Polls the record until its state is one of `states` (every 25 ms, up to `timeoutMs`). */
export async function waitForState(facility: string, image: string, states: string[], timeoutMs = 30_000): Promise<any> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const rec = await record(facility, image);
    if (rec && states.includes(rec.state)) return rec;
    if (Date.now() > until) throw new Error(`${image} in ${facility}: still ${rec?.state} after ${timeoutMs} ms: ${JSON.stringify(rec)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * A TCP proxy on 127.0.0.1 (an engine-chosen port) in front of `targetPort` that passes the
 * answers at most `bytesPerSecond`: pulls through it take long enough to watch their progress.
 */
export async function throttledProxy(targetPort: number, bytesPerSecond: number): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  // Half-open sockets: the Engine's client closes its sending side right after a request, and
  // the answer must still flow back.
  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = connect({ port: targetPort, host: '127.0.0.1', allowHalfOpen: true });
    sockets.add(client).add(upstream);
    const drop = () => {
      clearInterval(timer);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
    client.pipe(upstream);
    // Answers, throttled: at most bytesPerSecond/20 bytes every 50 ms.
    const slice = Math.max(1, Math.floor(bytesPerSecond / 20));
    const queue: Buffer[] = [];
    let ended = false;
    const timer = setInterval(() => {
      let budget = slice;
      while (budget > 0 && queue.length) {
        const head = queue[0];
        if (head.length <= budget) {
          client.write(queue.shift()!);
          budget -= head.length;
        } else {
          client.write(head.subarray(0, budget));
          queue[0] = head.subarray(budget);
          budget = 0;
        }
      }
      if (ended && !queue.length) {
        clearInterval(timer);
        client.end();
      }
    }, 50);
    upstream.on('data', (d: Buffer) => queue.push(d));
    upstream.on('end', () => (ended = true));
    upstream.on('close', () => (ended = true));
    client.on('close', () => {
      clearInterval(timer);
      upstream.destroy();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Never a credential in any answer: neither the password nor its X-Registry-Auth encodings. */
export function assertNoCredentials(bodies: string[]): void {
  const secrets = [REG_PASSWORD, 'wrong-password', REG_AUTH, Buffer.from(REG_PASSWORD).toString('base64')];
  for (const b of bodies) for (const s of secrets) if (b.includes(s)) throw new Error(`an answer contains a credential: ${b.slice(0, 300)}`);
}
