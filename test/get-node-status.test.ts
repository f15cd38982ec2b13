import { describe, expect, it } from 'vitest';
import { call, engine } from './helpers.ts';

// Solo mode: the Engine's host is the single node.
describe('node routes in solo mode', () => {
  it('get-node-names: a one-element array with the host name', async () => {
    const info = await engine.info();
    const r = await call('GET', '/demo/get-node-names');
    expect(r.status).toBe(200);
    expect(r.body).toEqual([info.Name]);
  });

  it('get-node-status: one object in the node-list shape', async () => {
    const info = await engine.info();
    const r = await call('GET', '/demo/get-node-status');
    expect(r.body).toEqual({
      Availability: 'Active',
      EngineVersion: info.ServerVersion,
      Hostname: info.Name,
      ID: info.ID,
      ManagerStatus: '',
      Self: true,
      Status: 'Ready',
      TLSStatus: '',
    });
    expect((await call('GET', `/demo/get-node-status?hostname=${info.Name}`)).body.Hostname).toBe(info.Name);
    expect((await call('GET', '/demo/get-node-status?hostname=not-this-host')).status).toBe(404);
    expect((await call('GET', '/demo/get-node-status?hostname=' + encodeURIComponent('bad host!'))).status).toBe(400);
  });

  it("get-node-info: the Engine's /info for the host's name", async () => {
    const info = await engine.info();
    const r = await call('GET', `/demo/get-node-info?hostname=${info.Name}`);
    expect(r.status).toBe(200);
    expect(r.body.ID).toBe(info.ID);
    expect(r.body.Name).toBe(info.Name);
    expect((await call('GET', '/demo/get-node-info')).status).toBe(400);
    expect((await call('GET', '/demo/get-node-info?hostname=elsewhere')).body.code).toBe('node_not_found');
  });
});
