import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createApp, engine, IMAGES, removeUserApps, uniqueUser } from './helpers.ts';

const a = uniqueUser('ga');
const b = uniqueUser('gb');
beforeAll(async () => {
  await createApp(IMAGES.busybox, a);
  await createApp(IMAGES.httpd, a);
  await createApp(IMAGES.busybox, b);
  // a container this API does not manage must never be counted
  await engine.createContainer(`busybox--${uniqueUser('foreign')}`, { Image: IMAGES.busybox });
});
afterAll(async () => {
  await removeUserApps(a, b);
  const foreign = await engine.listContainers({ all: true, filters: { name: ['busybox--tforeign'] } });
  await Promise.all(foreign.map((c) => engine.removeContainer(c.Id, { force: true })));
});

describe('GET /{facility}/get-users', () => {
  it('lists each user with apps once, sorted, and no unmanaged container', async () => {
    const r = await call('GET', '/demo/get-users');
    expect(r.status).toBe(200);
    expect(r.body).toContain(a);
    expect(r.body).toContain(b);
    expect(r.body.filter((u: string) => u === a)).toHaveLength(1);
    expect(r.body.some((u: string) => u.startsWith('tforeign'))).toBe(false);
    expect([...r.body].sort()).toEqual(r.body);
  });

  it('is per facility', async () => {
    const r = await call('GET', '/other/get-users');
    expect(r.body).not.toContain(a);
  });

  it('405 for POST', async () => {
    expect((await call('POST', '/demo/get-users')).status).toBe(405);
  });
});

describe('GET /{facility}/get-app-names', () => {
  it('lists app names, any state; ?user= narrows to one user', async () => {
    const all = await call('GET', '/demo/get-app-names');
    expect(all.body).toEqual(expect.arrayContaining([`busybox--${a}`, `httpd--${a}`, `busybox--${b}`]));
    const mine = await call('GET', `/demo/get-app-names?user=${a}`);
    expect(mine.body).toEqual([`busybox--${a}`, `httpd--${a}`]);
  });

  it('400 for an invalid user', async () => {
    const r = await call('GET', '/demo/get-app-names?user=a--b');
    expect(r.status).toBe(400);
    expect(r.body.parameter).toBe('user');
  });
});
