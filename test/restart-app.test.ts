import { afterAll, describe, expect, it } from 'vitest';
import { call, createApp, engine, IMAGES, removeUserApps, uniqueUser } from './helpers.ts';

const user = uniqueUser('r');
afterAll(() => removeUserApps(user));

describe('POST /{facility}/restart-app', () => {
  it('starts a created app and restarts a running one (new StartedAt)', async () => {
    const app = await createApp(IMAGES.busybox, user);
    const r = await call('POST', `/demo/restart-app?name=${app.name}`);
    expect(r.status).toBe(200);
    expect(r.body.state).toBe('running');
    const first = (await engine.inspectContainer(app.id)).State.StartedAt;
    const again = await call('POST', `/demo/restart-app?name=${app.name}&timeout=5`);
    expect(again.body.state).toBe('running');
    expect((await engine.inspectContainer(app.id)).State.StartedAt).not.toBe(first);
  });

  it('works on a paused app', async () => {
    await call('POST', `/demo/pause-app?name=busybox--${user}`);
    const r = await call('POST', `/demo/restart-app?name=busybox--${user}&timeout=1`);
    expect(r.status).toBe(200);
    expect(r.body.state).toBe('running');
  });
});
