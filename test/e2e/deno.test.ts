/**
 * The integration requests, driven from Node, against functions served by `deno serve` with
 * the narrowest permissions (scripts/deno-flags.ts), on the real Engine and a libSQL server:
 * the app lifecycle and its reads. Each route runs in its own Deno process, called directly.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { startLocalDeployment, type LocalDeployment } from '../../scripts/local-deploy.ts';
import { ADMIN_TOKEN, engine, IMAGES, uniqueUser, type Answer, type CallInit } from '../helpers.ts';
import { cliJsonLines } from '../cli.ts';
import { buildForTest, httpCall, useTeardown } from './support.ts';

const ROUTES = ['create-app', 'start-app', 'get-app-status', 'get-app-stats', 'get-app-info', 'get-app-names', 'pause-app', 'unpause-app', 'stop-app', 'delete-app'];
const user = uniqueUser('dn');
const running = `httpd--${user}`;
const stopped = `busybox--${user}`;

let d: LocalDeployment;
let dist: string;

/** `call()` against the Deno process serving the path's route. */
function call(method: string, path: string, init: CallInit = {}): Promise<Answer> {
  const route = /^\/[^/]+\/([^/?]+)/.exec(path)![1];
  return httpCall(d.direct(route), method, path, init);
}

beforeAll(async () => {
  ({ dist } = await buildForTest([...ROUTES, 'uptime-job']));
  d = await startLocalDeployment({
    dist,
    nginx: false,
    functions: Object.fromEntries(ROUTES.map((r) => [r, ['deno' as const]])),
    env: { SRC_ADMIN_TOKEN: ADMIN_TOKEN },
  });
}, 180_000);

useTeardown(user, () => ({ d, dist }));

describe('functions on Deno (deno serve, narrow permissions)', () => {
  it('every process is Deno with no --allow-all, --allow-sys, --allow-ffi or --allow-run', () => {
    for (const r of ROUTES) {
      const args = d.functions[r][0].child.spawnargs;
      expect(args[1]).toBe('serve');
      expect(args.join(' ')).not.toMatch(/--allow-all|-A\b|--allow-sys|--allow-ffi|--allow-run|--allow-write(?!=)|--allow-net(?!=)|--allow-read(?!=)|--allow-env(?!=)/);
    }
  });

  it('create-app: 201, the container exists with our labels', async () => {
    for (const image of [IMAGES.httpd, IMAGES.busybox]) {
      const r = await call('POST', `/demo/create-app?image=${image}&user=${user}`);
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      expect(r.body.state).toBe('created');
      const c = await engine.inspectContainer(r.body.id);
      expect(c.Config.Labels['io.src-container-api.user']).toBe(user);
    }
    const again = await call('POST', `/demo/create-app?image=${IMAGES.busybox}&user=${user}`);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('app_exists');
  });

  it('start-app: 200 running, also for several names', async () => {
    const r = await call('POST', `/demo/start-app?name=${running},${stopped}`);
    expect(r.status).toBe(200);
    expect(r.body.map((x: any) => x.state)).toEqual(['running', 'running']);
    expect((await engine.inspectContainer(running)).State.Running).toBe(true);
  });

  it('get-app-names and get-app-info', async () => {
    expect((await call('GET', `/demo/get-app-names?user=${user}`)).body.sort()).toEqual([stopped, running].sort());
    const info = await call('GET', `/demo/get-app-info?name=${running}`);
    expect(info.status).toBe(200);
    expect(info.body.Id).toBe((await engine.inspectContainer(running)).Id);
  });

  it('pause-app and unpause-app', async () => {
    expect((await call('POST', `/demo/pause-app?name=${running}`)).body.state).toBe('paused');
    expect((await engine.inspectContainer(running)).State.Paused).toBe(true);
    expect((await call('POST', `/demo/unpause-app?name=${running}`)).body.state).toBe('running');
  });

  it('stop-app: 200, the container is stopped', async () => {
    const r = await call('POST', `/demo/stop-app?name=${stopped}&timeout=1`);
    expect(r.status).toBe(200);
    expect((await engine.inspectContainer(stopped)).State.Running).toBe(false);
  });

  it('get-app-status: as `docker ps -a --format json` (names, states)', async () => {
    const [api, cli] = await Promise.all([
      call('GET', `/demo/get-app-status?name=${running},${stopped}`),
      cliJsonLines(['ps', '-a', '--format', 'json', '--filter', `label=io.src-container-api.user=${user}`]),
    ]);
    expect(api.status).toBe(200);
    expect(cli).toHaveLength(2);
    for (const expected of cli) {
      const got = api.body.find((x: any) => x.ID === expected.ID);
      expect(Object.keys(got).sort()).toEqual(Object.keys(expected).sort());
      for (const k of ['ID', 'Names', 'Image', 'State', 'Labels', 'Ports', 'Networks']) expect(got[k], k).toEqual(expected[k]);
    }
  });

  it('get-app-stats: the fields of `docker stats --no-stream --format json`', async () => {
    const [api, cli] = await Promise.all([call('GET', `/demo/get-app-stats?name=${running},${stopped}`), cliJsonLines(['stats', '--no-stream', '--format', 'json', running, stopped])]);
    expect(api.status).toBe(200);
    for (const expected of cli) {
      const got = api.body.find((x: any) => x.Name === expected.Name);
      // the CLI's fields, and the window CPU % was measured over (an extra field)
      expect(Object.keys(got).sort()).toEqual([...Object.keys(expected), 'CPUWindowMs'].sort());
      expect(got.ID).toBe(expected.ID);
      expect(got.PIDs === '0').toBe(expected.PIDs === '0');
    }
  });

  it('errors are the same problem+json: 400, 404, 401, 405', async () => {
    expect((await call('POST', '/demo/start-app?name=a$b')).body).toMatchObject({ status: 400, code: 'invalid_parameter', parameter: 'name' });
    expect((await call('POST', `/demo/start-app?name=nope--${user}`)).body.code).toBe('app_not_found');
    expect((await call('POST', `/nowhere/start-app?name=${running}`)).body.code).toBe('unknown_facility');
    expect((await call('GET', `/demo/get-app-names?user=${user}`, { token: null })).status).toBe(401);
    const wrong = await call('GET', `/demo/stop-app?name=${running}`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
  });

  it('the uptime job runs once on Deno (deno run serve-function.mjs --once) and records into sqld', async () => {
    const report = (await d.runOnce('uptime-job', 'deno')) as { facilities: { facility: string; outcome: string; detail?: string }[] };
    const demo = report.facilities.find((f) => f.facility === 'demo');
    expect(demo, JSON.stringify(report)).toBeDefined();
    expect(['recorded', 'first-run']).toContain(demo!.outcome);
  });

  it('delete-app: 200 deleted, the containers are gone', async () => {
    const r = await call('POST', `/demo/delete-app?name=${running},${stopped}`);
    expect(r.status).toBe(200);
    expect(r.body.map((x: any) => x.state)).toEqual(['deleted', 'deleted']);
    expect(await engine.listContainers({ all: true, filters: { label: [`io.src-container-api.user=${user}`] } })).toHaveLength(0);
  });
});
