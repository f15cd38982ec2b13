import { afterAll, describe, expect, it } from 'vitest';
import { call, createApp, engine, IMAGES, removeUserApps, uniqueUser } from './helpers.ts';

const user = uniqueUser('p');
afterAll(() => removeUserApps(user));

describe('POST /{facility}/stop-app', () => {
  it('stops a running app with SIGTERM (exit code 0 from the trap)', async () => {
    const app = await createApp(IMAGES.busybox, user);
    await call('POST', `/demo/start-app?name=${app.name}`);
    // the image's shell sets its TERM trap before its first `sleep`: wait for that (a SIGTERM to
    // PID 1 before the trap is set is ignored, and the Engine's SIGKILL 10 s later exits 137)
    for (let i = 0; ; i++) {
      const top = await engine.call<{ Processes: string[][] }>({ method: 'GET', path: `/containers/${app.id}/top`, statusCodes: { 200: true } });
      if (top.Processes.some((p) => p.some((col) => /\bsleep\b/.test(col)))) break;
      if (i > 100) throw new Error('the app never reached its sleep loop');
      await new Promise((r) => setTimeout(r, 100));
    }
    const r = await call('POST', `/demo/stop-app?name=${app.name}`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ name: app.name, id: app.id, state: 'exited' });
    expect((await engine.inspectContainer(app.id)).State.ExitCode).toBe(0);
  });

  it('stopping a stopped app is a no-op success, as docker stop', async () => {
    const r = await call('POST', `/demo/stop-app?name=busybox--${user}`);
    expect(r.status).toBe(200);
    expect(r.body.state).toBe('exited');
  });

  it('works on a paused app', async () => {
    const app = await createApp(IMAGES.httpd, user);
    await call('POST', `/demo/start-app?name=${app.name}`);
    await call('POST', `/demo/pause-app?name=${app.name}`);
    const r = await call('POST', `/demo/stop-app?name=${app.name}&timeout=1`);
    expect(r.status).toBe(200);
    expect(r.body.state).toBe('exited');
  });

  it('timeout=0 is accepted: SIGTERM then SIGKILL at once', async () => {
    await call('POST', `/demo/start-app?name=httpd--${user}`);
    const r = await call('POST', `/demo/stop-app?name=httpd--${user}&timeout=0`);
    expect(r.status).toBe(200);
    expect(r.body.state).toBe('exited');
    expect([0, 137]).toContain((await engine.inspectContainer(`httpd--${user}`)).State.ExitCode);
  });

  it.each(['-1', '1.5', 'ten', '301', ''])('400 for timeout=%j', async (t) => {
    const r = await call('POST', `/demo/stop-app?name=busybox--${user}&timeout=${t}`);
    expect(r.status).toBe(400);
    expect(r.body.parameter).toBe('timeout');
  });
});
