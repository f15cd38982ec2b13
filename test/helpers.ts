/**
 * Test helpers: the runner app in-process, unique names, and cleanup through the Engine.
 */
import { buildApp } from '../wrangler-local/app.ts';
import { Engine } from '../core/engine.ts';
import { LABELS } from '../core/naming.ts';
import { NETWORK_LABELS } from '../core/user-network.ts';

export const app = buildApp({ log: false, rateLimit: 0 });
/** A raw Engine client for set-up and assertions (never the code under test). */
export const engine = new Engine({ host: 'unix:///var/run/docker.sock' });

/** A request's options, plus `token` (default: the suite's admin token; `null`: no Authorization header). */
export type CallInit = RequestInit & { token?: string | null };

export interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

/** The suite's admin token (vitest.config.ts sets SRC_ADMIN_TOKEN). */
export const ADMIN_TOKEN = process.env.SRC_ADMIN_TOKEN!;

/**
 * Calls the API in-process: `call('POST', '/demo/start-app?name=x')`, as the suite's admin
 * unless `init.headers` carries an Authorization of its own (`{ token: null }` sends none).
 */
export function call(method: string, path: string, init: CallInit = {}): Promise<Answer> {
  return callWith((req) => app.fetch(req), 'http://api.test', method, path, init);
}

/**
 * `call()` through any fetch (the in-process app, or real HTTP to a deployment): the request
 * goes to `base + path`, as the suite's admin unless `init.token` says otherwise.
 */
export async function callWith(fetcher: (req: Request) => Response | Promise<Response>, base: string, method: string, path: string, init: CallInit = {}): Promise<Answer> {
  const { token = ADMIN_TOKEN, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (token && !headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
  const res = await fetcher(new Request(`${base}${path}`, { method, ...rest, headers }));
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* plain text */
  }
  return { status: res.status, body, headers: res.headers };
}

/** A user name unique to this test run: `t<prefix><random>`. */
export function uniqueUser(prefix = ''): string {
  return `t${prefix}${Math.random().toString(36).slice(2, 10)}`;
}

/** Removes every container (app or leftover) of `users`, by our user label. */
export async function removeUserApps(...users: string[]): Promise<void> {
  for (const user of users) {
    const list = await engine.listContainers({ all: true, filters: { label: [`${LABELS.user}=${user}`] } });
    await Promise.all(list.map((c) => engine.removeContainer(c.Id, { force: true, v: true }).catch(() => undefined)));
    // and the user's own networks (core/user-network.ts), in every facility
    const nets = await engine.listNetworks({ filters: { label: [`${NETWORK_LABELS.user}=${user.toLowerCase()}`] } });
    await Promise.all(nets.map((n) => engine.removeNetwork(n.Id).catch(() => undefined)));
  }
}

/** Removes the user networks (core/user-network.ts) whose labels `match` says are this test's, for tests that remove their containers directly. */
export async function removeNetworksWhere(match: (labels: Record<string, string>) => boolean): Promise<void> {
  const nets = await engine.listNetworks({ filters: { label: [NETWORK_LABELS.user] } });
  await Promise.all(nets.filter((n) => match(n.Labels ?? {})).map((n) => engine.removeNetwork(n.Id).catch(() => undefined)));
}

/** The test images built by scripts/build-test-images.sh. */
export const IMAGES = { busybox: 'src-test/busybox:latest', httpd: 'src-test/httpd:latest' } as const;

/** Creates an app through the API and fails loudly if that did not work. */
export async function createApp(image: string, user: string, facility = 'demo'): Promise<any> {
  const r = await call('POST', `/${facility}/create-app?image=${encodeURIComponent(image)}&user=${encodeURIComponent(user)}`);
  if (r.status !== 201) throw new Error(`create-app ${image} ${user}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/**
 * The Engine `e`, recording each call it makes as `METHOD /path` (with the call's query in
 * `queries`, same index): for tests of how many and which Engine calls a read or action makes.
 */
export function countingEngine(e: Engine): { engine: Engine; calls: string[]; queries: (Record<string, unknown> | undefined)[] } {
  const calls: string[] = [];
  const queries: (Record<string, unknown> | undefined)[] = [];
  const counting = Object.assign(Object.create(e), {
    call: (c: Parameters<Engine['call']>[0]) => {
      calls.push(`${c.method} ${c.path}`);
      queries.push(c.query as Record<string, unknown> | undefined);
      return e.call(c);
    },
  }) as Engine;
  return { engine: counting, calls, queries };
}

/** Polls `fn` every `everyMs` until it returns a truthy value (returned) or `ms` pass (throws naming `what`). */
export async function until<T>(what: string, ms: number, fn: () => Promise<T | undefined | false | null>, everyMs = 200): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
