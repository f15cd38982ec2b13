/**
 * get-app-logs on the real Engine: stdout and stderr of an app demultiplexed into lines, a
 * 40,000-character line kept whole, tail and its cap, timestamps, a user's scope, and
 * follow=true as Server-Sent Events until the app stops.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIG_SCRIPT, buildLogImage, LONG_LINE, removeLogImage } from './log-image.ts';
import { app, call, engine, removeUserApps, uniqueUser } from './helpers.ts';
import { mintToken } from '../core/auth.ts';

const user = uniqueUser('logs');
const tag = `src-test/logs-${user}:latest`;
const name = `logs-${user}--${user}`;
const LONG = LONG_LINE;

beforeAll(async () => {
  buildLogImage(tag);
  expect((await call('POST', `/demo/create-app?image=${tag}&user=${user}`)).status).toBe(201);
  expect((await call('POST', `/demo/start-app?name=${name}`)).status).toBe(200);
  // wait for the first ticks
  for (let i = 0; i < 50; i++) {
    const r = await call('GET', `/demo/get-app-logs?name=${name}&tail=1`);
    if (/^tick-([3-9]|\d\d)/.test(r.body.lines?.[0]?.line ?? '')) break;
    await new Promise((res) => setTimeout(res, 100));
  }
});
afterAll(async () => {
  await removeUserApps(user);
  removeLogImage(tag);
});

describe('get-app-logs', () => {
  it('answers stdout and stderr as whole lines, the long line kept whole', async () => {
    const r = await call('GET', `/demo/get-app-logs?name=${name}&tail=10000`);
    expect(r.status).toBe(200);
    expect(r.body.name).toBe(name);
    expect(r.body.truncated).toBeNull();
    const lines = r.body.lines as { stream: string; line: string }[];
    expect(lines.filter((l) => l.stream === 'stderr').map((l) => l.line)).toEqual(['err-1', 'err-2']);
    const out = lines.filter((l) => l.stream === 'stdout').map((l) => l.line);
    expect(out.slice(0, 3)).toEqual(['out-1', 'out-2', 'x'.repeat(LONG)]);
    expect(out[3]).toBe('tick-1');
  });

  it('tail, its cap, and timestamps', async () => {
    const r = await call('GET', `/demo/get-app-logs?name=${name}&tail=2&timestamps=true`);
    expect(r.body.lines).toHaveLength(2);
    for (const l of r.body.lines) {
      expect(l.line).toMatch(/^tick-\d+$/);
      expect(Date.parse(l.time)).toBeGreaterThan(0);
    }
    const all = await call('GET', `/demo/get-app-logs?name=${name}&tail=10000&timestamps=true`);
    expect(all.body.lines.find((l: { line: string }) => l.line.length === LONG)).toBeTruthy();
    const big = await call('GET', `/demo/get-app-logs?name=${name}&tail=10001`);
    expect(big.status).toBe(400);
    expect(big.body.parameter).toBe('tail');
    const future = await call('GET', `/demo/get-app-logs?name=${name}&since=${Math.floor(Date.now() / 1000) + 3600}`);
    expect(future.body.lines).toEqual([]);
    expect((await call('GET', `/demo/get-app-logs?name=${name}&since=yesterday`)).body.parameter).toBe('since');
  });

  it('an answer is capped at 10 MiB and says so', async () => {
    const bigTag = `src-test/biglogs-${user}:latest`;
    const big = `biglogs-${user}--${user}`;
    buildLogImage(bigTag, BIG_SCRIPT);
    try {
      expect((await call('POST', `/demo/create-app?image=${bigTag}&user=${user}`)).status).toBe(201);
      expect((await call('POST', `/demo/start-app?name=${big}`)).status).toBe(200);
      for (let i = 0; i < 100; i++) {
        const r = await call('GET', `/demo/get-app-logs?name=${big}&tail=1`);
        if (r.body.lines?.[0]?.line === 'done') break;
        await new Promise((res) => setTimeout(res, 100));
      }
      const r = await call('GET', `/demo/get-app-logs?name=${big}&tail=10000`);
      expect(r.status).toBe(200);
      expect(r.headers.get('x-logs-truncated')).toBe('true');
      expect(r.body.truncated).toMatch(/capped at 10485760 bytes/);
      expect(r.body.lines.length).toBe(Math.floor((10 * 1024 * 1024) / (LONG_LINE + 1)));
      expect(r.body.lines.every((l: { line: string }) => l.line.length === LONG_LINE)).toBe(true);
      const small = await call('GET', `/demo/get-app-logs?name=${big}&tail=5`);
      expect([small.body.truncated, small.headers.get('x-logs-truncated')]).toEqual([null, null]);
      // tail counts the Engine's entries: a 40,000-character line is 3 (16 KiB pieces), so the last
      // 5 are 'done', the last line whole, and the end piece of the line before it
      expect(small.body.lines.map((l: { line: string }) => l.line.length)).toEqual([LONG_LINE - 2 * 16384, LONG_LINE, 4]);
    } finally {
      await engine.removeContainer(big, { force: true, v: true }).catch(() => undefined);
      removeLogImage(bigTag);
    }
  });

  it("a user reads their own app's log, not another's", async () => {
    const own = await mintToken({ role: 'user', name: `${user}-t`, user });
    const other = await mintToken({ role: 'user', name: `${user}-o`, user: `${user}x` });
    expect((await call('GET', `/demo/get-app-logs?name=${name}&tail=1`, { token: own.token })).status).toBe(200);
    expect((await call('GET', `/demo/get-app-logs?name=${name}&tail=1`, { token: other.token })).status).toBe(403);
    expect((await call('GET', `/demo/get-app-logs?name=nope--${user}`)).status).toBe(404);
  });

  it('follow=true streams Server-Sent Events until the app stops', async () => {
    const res = await app.fetch(new Request(`http://api.test/demo/get-app-logs?name=${name}&tail=0&follow=true`, { headers: { authorization: `Bearer ${process.env.SRC_ADMIN_TOKEN}` } }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let text = '';
    while (!/event: log\ndata: .*tick-\d+.*\n\n[\s\S]*event: log\ndata: .*tick-/.test(text)) text += dec.decode((await reader.read()).value);
    expect(text).toMatch(/^: streaming app logs/);
    const stopped = call('POST', `/demo/stop-app?name=${name}`);
    while (!text.includes('event: end')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += dec.decode(value);
    }
    expect((await stopped).status).toBe(200);
    expect(text).toMatch(/event: end\ndata: \{"reason":"the app stopped"\}/);
    expect((await reader.read()).done).toBe(true);
  });
});
