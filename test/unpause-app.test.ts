import { afterAll, describe, expect, it } from 'vitest';
import { call, createApp, IMAGES, removeUserApps, uniqueUser } from './helpers.ts';

const user = uniqueUser('u');
afterAll(() => removeUserApps(user));

describe('POST /{facility}/unpause-app', () => {
  it('409 on a running app: nothing to unpause', async () => {
    const app = await createApp(IMAGES.busybox, user);
    await call('POST', `/demo/start-app?name=${app.name}`);
    const r = await call('POST', `/demo/unpause-app?name=${app.name}`);
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ code: 'state_conflict', state: 'running' });
    expect(r.body.detail).toContain('not paused');
  });

  it('unpauses a paused app', async () => {
    await call('POST', `/demo/pause-app?name=busybox--${user}`);
    const r = await call('POST', `/demo/unpause-app?name=busybox--${user}`);
    expect(r.status).toBe(200);
    expect(r.body.state).toBe('running');
  });

  it('409 on a stopped app, saying to start it', async () => {
    await call('POST', `/demo/stop-app?name=busybox--${user}`);
    const r = await call('POST', `/demo/unpause-app?name=busybox--${user}`);
    expect(r.status).toBe(409);
    expect(r.body.detail).toContain('start-app');
  });
});
