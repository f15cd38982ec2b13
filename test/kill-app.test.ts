import { afterAll, describe, expect, it } from 'vitest';
import { call, createApp, engine, IMAGES, removeUserApps, uniqueUser } from './helpers.ts';

const user = uniqueUser('k');
afterAll(() => removeUserApps(user));

describe('POST /{facility}/kill-app', () => {
  it('kills a running app with SIGKILL (exit 137)', async () => {
    const app = await createApp(IMAGES.busybox, user);
    await call('POST', `/demo/start-app?name=${app.name}`);
    const r = await call('POST', `/demo/kill-app?name=${app.name}`);
    expect(r.status).toBe(200);
    expect(r.body.state).toBe('exited');
    expect((await engine.inspectContainer(app.id)).State.ExitCode).toBe(137);
  });

  it('409 on an app that is not running', async () => {
    const r = await call('POST', `/demo/kill-app?name=busybox--${user}`);
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ code: 'state_conflict', state: 'exited' });
  });

  it('works on a paused app', async () => {
    await call('POST', `/demo/start-app?name=busybox--${user}`);
    await call('POST', `/demo/pause-app?name=busybox--${user}`);
    const r = await call('POST', `/demo/kill-app?name=busybox--${user}`);
    expect(r.status).toBe(200);
    expect(r.body.state).toBe('exited');
  });
});
