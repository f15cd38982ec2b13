/**
 * Coalescing of identical in-flight Engine reads (core/engine.ts `Engine.call`), on the real
 * Engine: how many calls reach it (the count of the request scope the clients were made for), that callers get their own copies,
 * that one caller's cancellation leaves the others' call alone, and that a read joins only calls
 * sent within its window (`notBefore`) and after the latest write ended.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DomainError } from '../core/errors.ts';
import { newScope, type RequestScope } from '../core/observe.ts';
import { createApp, engine, IMAGES, removeUserApps, uniqueUser } from './helpers.ts';

const user = uniqueUser('co');
const name = `busybox--${user}`;
let id: string;

beforeAll(async () => {
  id = (await createApp(IMAGES.busybox, user)).id;
  await engine.startContainer(id);
});
afterAll(() => removeUserApps(user));

/** Resolves once calls started before it were sent (the API version is known: one microtask). */
const sent = () => new Promise((r) => setImmediate(r));

/** A request's client, as core/route.ts makes one: its own cancellation, its calls counted in `scope`. */
const client = (scope?: RequestScope, signal = new AbortController().signal, notBefore?: number) => engine.withSignal(signal, notBefore, scope);

describe('Engine read coalescing', () => {
  it('sends one call for identical reads in flight and gives each caller its own copy', async () => {
    await engine.version(); // negotiated: the reads below start together
    const scope = newScope('test');
    const clients = Array.from({ length: 5 }, () => client(scope));
    const filters = { label: [`io.src-container-api.app=${name}`] };
    const lists = await Promise.all(clients.map((e) => e.listContainers({ all: true, filters })));
    expect(scope.engineCalls).toBe(1);
    for (const l of lists) expect(l.map((c: { Names: string[] }) => c.Names[0])).toEqual([`/${name}`]);
    lists[0][0].Names[0] = 'changed';
    lists[1][0].Labels['io.src-container-api.app'] = 'changed';
    expect(lists[1][0].Names[0]).toBe(`/${name}`);
    for (const l of [lists[0], ...lists.slice(2)]) expect(l[0].Labels['io.src-container-api.app']).toBe(name);
    expect(new Set(lists).size).toBe(5);
    // different queries are different reads
    const other = newScope('test');
    await Promise.all([client(other).listContainers({ all: true, filters }), client(other).listContainers({ all: false, filters })]);
    expect(other.engineCalls).toBe(2);
  });

  it('never shares between process-wide clients (no request start to compare with)', async () => {
    const scope = newScope('test');
    const writer = engine.withScope(scope); // a write route's client: counted, never shared
    await Promise.all([writer.inspectContainer(id), writer.inspectContainer(id)]);
    expect(scope.engineCalls).toBe(2);
  });

  it('keeps the shared call for the others when one caller leaves; rejects only that caller', async () => {
    // stats?stream=false samples twice (~1-2 s): long in flight
    const scope = newScope('test');
    const gone = new AbortController();
    const leaving = client(scope, gone.signal);
    const staying = [client(scope), client(scope)];
    const first = leaving.containerStats(id).then(
      () => 'answered',
      (e) => e,
    );
    const rest = staying.map((e) => e.containerStats(id));
    await sent();
    gone.abort();
    const value = { first: await first, rest: await Promise.all(rest) };
    expect(scope.engineCalls).toBe(1);
    expect(value.first).toBeInstanceOf(DomainError);
    expect((value.first as DomainError).code).toBe('client_closed');
    for (const s of value.rest) expect(s.precpu_stats?.cpu_usage?.total_usage).toBeGreaterThan(0);
  });

  it('cancels the Engine call once every caller has left', async () => {
    const a = new AbortController();
    const b = new AbortController();
    const reads = [engine.withSignal(a.signal).containerStats(id), engine.withSignal(b.signal).containerStats(id)].map((p) =>
      p.then(
        () => 'answered',
        (e: DomainError) => e.code,
      ),
    );
    await sent();
    a.abort();
    b.abort();
    expect(await Promise.all(reads)).toEqual(['client_closed', 'client_closed']);
    // the next caller sends a call of its own (the cancelled one is no longer in flight)
    const next = newScope('test');
    await client(next).containerStatsOneShot(id);
    expect(next.engineCalls).toBe(1);
  });

  it('joins a call sent before the client was made only within its window, and never one sent before a write ended', async () => {
    const early = client();
    const inFlight = early.containerStats(id);
    await sent(); // the clients below come after the call was sent
    const joined = newScope('test');
    const own = newScope('test');
    const lenient = client(joined, undefined, performance.now() - 60_000);
    const strict = client(own); // window: from now on
    await Promise.all([lenient.containerStats(id), strict.containerStats(id)]);
    expect(joined.engineCalls).toBe(0); // answered by `early`'s call
    expect(own.engineCalls).toBe(1);
    await inFlight;

    const scope = newScope('test');
    const before = client(scope);
    const after = client(scope, undefined, performance.now() - 60_000);
    const first = before.containerStats(id); // sent before the write below ends
    await sent();
    await engine.withScope(scope).renameContainer(id, `${name}-x`); // a write
    const second = after.containerStats(id);
    await Promise.all([first, second]);
    await engine.renameContainer(id, name);
    expect(scope.engineCalls).toBe(2 + 1); // two reads and the write
  });
});
