import { afterAll, describe, expect, it } from 'vitest';
import { call, createApp, engine, IMAGES, removeUserApps, uniqueUser } from './helpers.ts';

const user = uniqueUser('d');
afterAll(() => removeUserApps(user));

async function volumesOf(id: string): Promise<string[]> {
  const c = await engine.inspectContainer(id);
  return c.Mounts.filter((m: any) => m.Type === 'volume').map((m: any) => m.Name);
}

describe('POST /{facility}/delete-app', () => {
  it('deletes a running app and its anonymous volumes', async () => {
    const app = await createApp(IMAGES.busybox, user);
    // recreate it with an anonymous volume (as an image VOLUME would give it), same labels
    const labels = (await engine.inspectContainer(app.id)).Config.Labels;
    await engine.removeContainer(app.id, { force: true });
    const c = await engine.createContainer(app.name, {
      Image: IMAGES.busybox,
      Volumes: { '/data': {} },
      Labels: labels,
    });
    await call('POST', `/demo/start-app?name=${app.name}`);
    const vols = await volumesOf(c.Id);
    expect(vols).toHaveLength(1);
    const r = await call('POST', `/demo/delete-app?name=${app.name}`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ name: app.name, id: c.Id, state: 'deleted' });
    await expect(engine.inspectContainer(c.Id)).rejects.toMatchObject({ statusCode: 404 });
    await expect(engine.call({ method: 'GET', path: `/volumes/${vols[0]}`, statusCodes: { 200: true, 404: 'no such volume' } })).rejects.toMatchObject({ statusCode: 404 });
  });

  it('deletes a paused app', async () => {
    const app = await createApp(IMAGES.httpd, user);
    await call('POST', `/demo/start-app?name=${app.name}`);
    await call('POST', `/demo/pause-app?name=${app.name}`);
    expect((await call('POST', `/demo/delete-app?name=${app.name}`)).status).toBe(200);
    expect((await call('GET', `/demo/get-app-names?user=${user}`)).body).toEqual([]);
  });

  it('404 for an app that does not exist (or was deleted)', async () => {
    const r = await call('POST', `/demo/delete-app?name=busybox--${user}`);
    expect(r.status).toBe(404);
    expect(r.body.code).toBe('app_not_found');
  });
});

describe('delete-app under concurrency', () => {
  it('10 deletes of one app at once: exactly one 200, the others 404 or 409, never 5xx', async () => {
    const app = await createApp(IMAGES.busybox, user);
    await call('POST', `/demo/start-app?name=${app.name}`);
    const rs = await Promise.all(Array.from({ length: 10 }, () => call('POST', `/demo/delete-app?name=${app.name}`)));
    const statuses = rs.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.every((s) => [200, 404, 409].includes(s))).toBe(true);
    await expect(engine.inspectContainer(app.id)).rejects.toMatchObject({ statusCode: 404 });
  });
});
