import { afterAll, describe, expect, it } from 'vitest';
import { call, createApp, engine, IMAGES, removeUserApps, uniqueUser } from './helpers.ts';

const user = uniqueUser('i');
afterAll(() => removeUserApps(user));

describe('GET /{facility}/get-app-info', () => {
  it("answers the Engine's inspect object itself, unchanged", async () => {
    const app = await createApp(IMAGES.busybox, user);
    const r = await call('GET', `/demo/get-app-info?name=${app.name}`);
    expect(r.status).toBe(200);
    expect(Array.isArray(r.body)).toBe(false);
    expect(r.body).toEqual(await engine.inspectContainer(app.id));
  });

  it('404 for an unknown app, 400 without or with several names', async () => {
    expect((await call('GET', `/demo/get-app-info?name=nope--${user}`)).status).toBe(404);
    expect((await call('GET', '/demo/get-app-info')).status).toBe(400);
    const r = await call('GET', `/demo/get-app-info?name=a--b,c--d`);
    expect(r.status).toBe(400);
    expect(r.body.parameter).toBe('name');
  });
});
