import { afterAll, describe, expect, it } from 'vitest';
import { call, countingEngine, createApp, engine, IMAGES, removeUserApps, uniqueUser } from './helpers.ts';
import { pauseApp, unpauseApp } from '../core/apps.ts';
import { getFacility } from '../core/facility.ts';

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

  it('pause and unpause: two Engine calls each (the inspect, the action), answering the state the action left', async () => {
    const f = getFacility('demo');
    const p = countingEngine(f.engine);
    const id = (await engine.inspectContainer(`busybox--${user}`)).Id;
    expect(await unpauseApp({ ...f, engine: p.engine }, `busybox--${user}`)).toEqual({ name: `busybox--${user}`, id, state: 'running' });
    expect(p.calls).toEqual([`GET /containers/busybox--${user}/json`, `POST /containers/${id}/unpause`]);
    expect((await engine.inspectContainer(id)).State.Status).toBe('running');
    const q = countingEngine(f.engine);
    expect(await pauseApp({ ...f, engine: q.engine }, `busybox--${user}`)).toEqual({ name: `busybox--${user}`, id, state: 'paused' });
    expect(q.calls).toEqual([`GET /containers/busybox--${user}/json`, `POST /containers/${id}/pause`]);
    expect((await engine.inspectContainer(id)).State.Status).toBe('paused');
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
