import { afterAll, describe, expect, it } from 'vitest';
import { call, createApp, engine, IMAGES, removeUserApps, uniqueUser } from './helpers.ts';
import { LABELS } from '../core/naming.ts';

const user = uniqueUser('h');
const repo = `127.0.0.1:5999/${user}/resettable`;
afterAll(async () => {
  await removeUserApps(user);
  await engine.call({ method: 'DELETE', path: `/images/${repo}:1`, query: { force: true }, statusCodes: { 200: true, 404: 'gone' } }).catch(() => undefined);
});

async function exec(id: string, cmd: string[]): Promise<void> {
  const e = await engine.call<{ Id: string }>({ method: 'POST', path: `/containers/${id}/exec`, body: { Cmd: cmd }, statusCodes: { 201: true } });
  await engine.call({ method: 'POST', path: `/exec/${e.Id}/start`, body: { Detach: false }, statusCodes: { 200: true }, stream: false });
}

describe('POST /{facility}/hard-reset-app', () => {
  it('recreates a running app from its original image: same name, new ID, data gone, running again', async () => {
    const app = await createApp(IMAGES.httpd, user);
    const started = await call('POST', `/demo/start-app?name=${app.name}`);
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    await exec(app.id, ['sh', '-c', 'echo data > /tmp/user-file']);
    const r = await call('POST', `/demo/hard-reset-app?name=${app.name}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ name: app.name, state: 'running', previousId: app.id, image: { source: 'original-image', id: app.imageId, reference: IMAGES.httpd } });
    expect(r.body.id).not.toBe(app.id);
    await expect(engine.inspectContainer(app.id)).rejects.toMatchObject({ statusCode: 404 });
    const c = await engine.inspectContainer(app.name);
    expect(c.Id).toBe(r.body.id);
    expect(c.Config.Labels[LABELS.imageId]).toBe(app.imageId);
    expect(c.HostConfig.PortBindings).toEqual({ '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] });
    const diff = await engine.call<any[] | null>({ method: 'GET', path: `/containers/${c.Id}/changes`, statusCodes: { 200: true } });
    expect((diff ?? []).some((d) => d.Path === '/tmp/user-file')).toBe(false);
    const list = await engine.listContainers({ all: true, filters: { label: [`${LABELS.user}=${user}`] } });
    expect(list).toHaveLength(1);
  });

  it('a created app stays created', async () => {
    const app = await createApp(IMAGES.busybox, user);
    const r = await call('POST', `/demo/hard-reset-app?name=${app.name}`);
    expect(r.body.state).toBe('created');
  });

  it('when the reference now names another image, the original image (by ID) is used', async () => {
    await engine.call({ method: 'POST', path: `/images/${IMAGES.busybox}/tag`, query: { repo, tag: '1' }, statusCodes: { 201: true } });
    const app = await createApp(`${repo}:1`, user);
    await engine.call({ method: 'POST', path: `/images/${IMAGES.httpd}/tag`, query: { repo, tag: '1' }, statusCodes: { 201: true } });
    const r = await call('POST', `/demo/hard-reset-app?name=${app.name}`);
    expect(r.status).toBe(200);
    expect(r.body.image).toMatchObject({ source: 'original-image', id: app.imageId });
    expect((await engine.inspectContainer(app.name)).Image).toBe(app.imageId);
  });

  it('404 and the app unchanged when neither the original image nor the reference exists', async () => {
    const ghost = `ghost--${user}`;
    const labels = (await engine.inspectContainer(`busybox--${user}`)).Config.Labels;
    const c = await engine.createContainer(ghost, {
      Image: IMAGES.busybox,
      Labels: { ...labels, [LABELS.app]: ghost, [LABELS.imageId]: 'sha256:' + '0'.repeat(64), [LABELS.imageReference]: 'src-test/ghost:gone' },
    });
    const r = await call('POST', `/demo/hard-reset-app?name=${ghost}`);
    expect(r.status).toBe(404);
    expect(r.body.code).toBe('image_not_found');
    expect((await engine.inspectContainer(ghost)).Id).toBe(c.Id);
  });

  it('removes replacements a crashed earlier reset left behind', async () => {
    const labels = (await engine.inspectContainer(`busybox--${user}`)).Config.Labels;
    const stale = await engine.createContainer(`busybox--${user}.reset-dead0000`, { Image: IMAGES.busybox, Labels: labels });
    expect((await call('GET', `/demo/get-app-names?user=${user}`)).body).not.toContain(`busybox--${user}.reset-dead0000`);
    const r = await call('POST', `/demo/hard-reset-app?name=busybox--${user}`);
    expect(r.status).toBe(200);
    await expect(engine.inspectContainer(stale.Id)).rejects.toMatchObject({ statusCode: 404 });
  });
});

describe('hard-reset-app and approvals', () => {
  it('403 and the app unchanged when its image was denied since it was created', async () => {
    const denied = `127.0.0.1:5999/${user}/denied`;
    await engine.call({ method: 'POST', path: `/images/${IMAGES.busybox}/tag`, query: { repo: denied, tag: '1' }, statusCodes: { 201: true } });
    try {
      const app = await createApp(`${denied}:1`, user);
      expect((await call('POST', `/demo/deny-image?image=${encodeURIComponent(`${denied}:1`)}&reason=retired`)).status).toBe(200);
      const r = await call('POST', `/demo/hard-reset-app?name=${app.name}`);
      expect(r.status).toBe(403);
      expect(r.body).toMatchObject({ code: 'image_not_approved', requestState: 'denied' });
      expect((await engine.inspectContainer(app.name)).Id).toBe(app.id);
    } finally {
      await engine.call({ method: 'DELETE', path: `/images/${denied}:1`, query: { force: true }, statusCodes: { 200: true, 404: 'gone' } }).catch(() => undefined);
    }
  });
});
