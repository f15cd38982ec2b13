import { afterAll, describe, expect, it } from 'vitest';
import { call, createApp, engine, IMAGES, removeUserApps, uniqueUser } from './helpers.ts';

const user = uniqueUser('s');
afterAll(() => removeUserApps(user));

describe('POST /{facility}/start-app', () => {
  it('starts a created app: 200 {name, id, state: running}', async () => {
    const app = await createApp(IMAGES.busybox, user);
    const r = await call('POST', `/demo/start-app?name=${app.name}`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ name: app.name, id: app.id, state: 'running' });
    expect((await engine.inspectContainer(app.id)).State.Running).toBe(true);
    expect(r.headers.get('x-request-id')).toBeTruthy();
  });

  it('starting a running app is a no-op success, as docker start', async () => {
    const r = await call('POST', `/demo/start-app?name=busybox--${user}`);
    expect(r.status).toBe(200);
    expect(r.body.state).toBe('running');
  });

  it('409 on a paused app, saying to unpause it', async () => {
    const app = await createApp(IMAGES.httpd, user);
    await call('POST', `/demo/start-app?name=${app.name}`);
    expect((await call('POST', `/demo/pause-app?name=${app.name}`)).status).toBe(200);
    const r = await call('POST', `/demo/start-app?name=${app.name}`);
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ code: 'state_conflict', state: 'paused' });
    expect(r.body.detail).toContain('unpause');
  });

  it('several names: array of results, 207 when some fail, a problem carrying every result when all fail', async () => {
    const ok = `busybox--${user}`;
    const missing = `nothing--${user}`;
    const r = await call('POST', `/demo/start-app?name=${ok},${missing}`);
    expect(r.status).toBe(207);
    expect(r.body).toHaveLength(2);
    expect(r.body[0]).toMatchObject({ name: ok, state: 'running' });
    expect(r.body[1]).toMatchObject({ name: missing, error: { status: 404, code: 'app_not_found' } });
    const all = await call('POST', `/demo/start-app?name=${missing},other--${user}`);
    expect(all.status).toBe(404);
    expect(all.headers.get('content-type')).toBe('application/problem+json');
    expect(all.body).toMatchObject({ status: 404, code: 'app_not_found' });
    expect(all.body.results.map((x: any) => [x.name, x.error.code])).toEqual([
      [missing, 'app_not_found'],
      [`other--${user}`, 'app_not_found'],
    ]);
    const both = await call('POST', `/demo/start-app?name=${ok},${ok}`);
    expect(both.status).toBe(200);
    expect(both.body).toEqual({ name: ok, id: expect.any(String), state: 'running' });
  });

  it('404 for an unknown app; 400 for an invalid name; 400 without a name', async () => {
    expect((await call('POST', `/demo/start-app?name=nope--${user}`)).body.code).toBe('app_not_found');
    const bad = await call('POST', `/demo/start-app?name=${encodeURIComponent('x$(touch /tmp/p)')}`);
    expect(bad.status).toBe(400);
    expect(bad.body.parameter).toBe('name');
    expect((await call('POST', '/demo/start-app')).status).toBe(400);
  });

  it('never touches a container it does not manage', async () => {
    const foreign = `busybox--${user}x`;
    const c = await engine.createContainer(foreign, { Image: IMAGES.busybox, Labels: { 'io.src-container-api.user': user } });
    const r = await call('POST', `/demo/start-app?name=${foreign}`);
    expect(r.status).toBe(404);
    expect((await engine.inspectContainer(c.Id)).State.Status).toBe('created');
  });
});
