import { afterAll, describe, expect, it } from 'vitest';
import { call, createApp, engine, IMAGES, removeUserApps, uniqueUser } from './helpers.ts';

const user = uniqueUser('pa');
afterAll(() => removeUserApps(user));

describe('POST /{facility}/pause-app', () => {
  it('409 on a created (never started) app, saying to start it', async () => {
    const app = await createApp(IMAGES.busybox, user);
    const r = await call('POST', `/demo/pause-app?name=${app.name}`);
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ code: 'state_conflict', state: 'created' });
    expect(r.body.detail).toContain('start');
  });

  it('pauses a running app', async () => {
    await call('POST', `/demo/start-app?name=busybox--${user}`);
    const r = await call('POST', `/demo/pause-app?name=busybox--${user}`);
    expect(r.status).toBe(200);
    expect(r.body.state).toBe('paused');
    expect((await engine.inspectContainer(`busybox--${user}`)).State.Paused).toBe(true);
  });

  it('409 on an already paused app', async () => {
    const r = await call('POST', `/demo/pause-app?name=busybox--${user}`);
    expect(r.status).toBe(409);
    expect(r.body.state).toBe('paused');
  });

  it('409 on a stopped app', async () => {
    await call('POST', `/demo/stop-app?name=busybox--${user}&timeout=1`);
    const r = await call('POST', `/demo/pause-app?name=busybox--${user}`);
    expect(r.status).toBe(409);
    expect(r.body.state).toBe('exited');
  });
});
