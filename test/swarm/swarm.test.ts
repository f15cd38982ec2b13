/**
 * Swarm mode on a real three-node swarm: scripts/swarm-lab.sh brings up 1 manager + 2 workers
 * (own Engines in their own network, UTS and mount namespaces) in its own lab directory, so it
 * never meets a lab an admin runs, nor the main Engine (which other test files use meanwhile).
 *
 * The only test file that brings the lab up: every swarm route's happy path and errors live
 * here, one describe block per route, run in order on one lab (~3 s up, ~5-10 s down).
 * The docker CLI (v28) is the oracle for node and service fields.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, setConfig } from '../../core/config.ts';
import { Engine, S_SWARM_READ } from '../../core/engine.ts';
import { getFacility, resetFacilities } from '../../core/facility.ts';
import { LABELS, LABEL_SCHEMA_VERSION } from '../../core/naming.ts';
import { facilityMode, resetModeCache } from '../../core/mode.ts';
import { defineRoute, json } from '../../core/route.ts';
import { ADMIN_TOKEN, app, call as callRunner, IMAGES, uniqueUser, type Answer, type CallInit, until } from '../helpers.ts';
import { checkAnswer, docPathOf, DOC } from '../openapi-check.ts';
import { cliJsonLines, DOCKER_CLI } from '../cli.ts';

const run = promisify(execFile);
// a lab of its own per engineer or run: SWARM_LAB_DIR and SWARM_LAB_SUBNET override the defaults
const LAB = process.env.SWARM_LAB_DIR ?? '/tmp/src-swarm-lab-vitest';
const SCRIPT = new URL('../../scripts/swarm-lab.sh', import.meta.url).pathname;
const SUBNET = process.env.SWARM_LAB_SUBNET ?? '192.168.213';
const sock = (k: number): string => `${LAB}/node${k}/docker.sock`;
const nodeEngine = (k: number): Engine => new Engine({ host: `unix://${sock(k)}` });
const manager = nodeEngine(1);

/** `call()` with every answer of a documented operation checked against the OpenAPI document (the swarm shapes). */
async function call(method: string, path: string, init: CallInit = {}): Promise<Answer> {
  const r = await callRunner(method, path, init);
  const docPath = docPathOf(new URL(path, 'http://x').pathname);
  if (docPath && DOC.paths[docPath][method.toLowerCase()]) checkAnswer(docPath, method, r.status, r.headers.get('content-type'), r.body);
  return r;
}

function lab(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run('bash', [SCRIPT, ...args], { env: { ...process.env, SWARM_LAB_DIR: LAB, SWARM_LAB_SUBNET: SUBNET }, maxBuffer: 16 << 20 });
}
/** The CLI against node 1 (the manager). */
function cli(...args: string[]): Promise<any[]> {
  return cliJsonLines(['-H', `unix://${sock(1)}`, ...args], { DOCKER_HOST: '', DOCKER_CONTEXT: '' });
}
async function cliInspect(...args: string[]): Promise<any> {
  const { stdout } = await run(DOCKER_CLI, ['-H', `unix://${sock(1)}`, ...args], { maxBuffer: 16 << 20 });
  return JSON.parse(stdout);
}

const approved = { approved: ['docker.io/src-test/*'] };
let facilityJson: { manager: string; nodes: Record<string, string> };
function useConfig(overrides: { nodes?: Record<string, string> } = {}): void {
  const nodes = overrides.nodes ?? facilityJson.nodes;
  setConfig(
    parseConfig(
      {
        facilities: {
          // default: replicated jobs of one task
          swarm: { engine: { host: facilityJson.manager }, mode: 'swarm', nodes, images: approved },
          // long-running replicated services of three tasks, ports published
          swarm3: { engine: { host: facilityJson.manager }, mode: 'swarm', nodes, images: approved, swarm: { serviceMode: 'replicated', replicas: 3, publish: 'all' } },
          // the same manager forced to solo mode
          forcedsolo: { engine: { host: facilityJson.manager }, mode: 'solo', images: approved },
          // the main Engine (solo), read only: GET /info
          solo: { mode: 'solo', images: approved },
          // mode detection (`auto`), on the lab's own Engines only: the manager, and a worker (solo)
          automanager: { engine: { host: facilityJson.manager }, mode: 'auto', images: approved },
          autoworker: { engine: { host: facilityJson.nodes['src-node2'] }, mode: 'auto', images: approved },
        },
      },
      'test/swarm/swarm.test.ts',
    ),
  );
  resetFacilities();
}

const users: string[] = [];
function user(prefix: string): string {
  const u = uniqueUser(prefix);
  users.push(u);
  return u;
}

let upSeconds = 0;
beforeAll(async () => {
  const t0 = performance.now();
  const { stdout } = await lab('up');
  upSeconds = (performance.now() - t0) / 1000;
  console.log(`[swarm-lab] up in ${upSeconds.toFixed(1)} s\n${stdout.trim()}`);
  facilityJson = JSON.parse(readFileSync(`${LAB}/facility.json`, 'utf8'));
  useConfig();
}, 180_000);

afterAll(async () => {
  setConfig(undefined);
  resetFacilities();
  const t0 = performance.now();
  const { stdout } = await lab('down');
  console.log(`[swarm-lab] ${stdout.trim()} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}, 180_000);

describe('facility mode', () => {
  it('auto is detected from the Engine: the lab manager is swarm, a lab worker solo; an explicit mode is kept', async () => {
    resetModeCache();
    expect(await facilityMode(getFacility('automanager'))).toBe('swarm');
    expect(await facilityMode(getFacility('autoworker'))).toBe('solo');
    expect(await facilityMode(getFacility('swarm'))).toBe('swarm');
    expect(await facilityMode(getFacility('solo'))).toBe('solo');
    expect(await facilityMode(getFacility('forcedsolo'))).toBe('solo');
  });

  it.each(['start-app', 'stop-app', 'pause-app', 'unpause-app', 'restart-app', 'delete-app', 'hard-reset-app'])('%s is solo only: 409 wrong_mode naming the swarm mode', async (route) => {
    const r = await call('POST', `/swarm/${route}?name=busybox--nobody`);
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ code: 'wrong_mode', mode: 'swarm', modes: ['solo'] });
    expect(r.body.detail).toContain("facility 'swarm' runs in swarm mode");
  });

  it('a swarm-only route in solo mode: 409 wrong_mode naming the solo mode', async () => {
    const route = defineRoute({ method: 'GET', route: 'swarm-only', summary: 'test', modes: ['swarm'], access: 'admin', query: {}, handler: async () => json({ ok: true }) });
    const get = async (f: string): Promise<Response> => route.fetch(new Request(`http://api.test/${f}/swarm-only`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }));
    const solo = await get('solo');
    expect(solo.status).toBe(409);
    expect(await solo.json()).toMatchObject({ code: 'wrong_mode', mode: 'solo', modes: ['swarm'] });
    expect((await get('swarm')).status).toBe(200);
  });

  it('a forced solo mode on a swarm manager: solo routes run, nodes describe the Engine host alone', async () => {
    expect((await call('POST', '/forcedsolo/start-app?name=busybox--nobody')).body.code).toBe('app_not_found');
    const r = await call('GET', '/forcedsolo/get-node-status');
    expect(r.body).toMatchObject({ Hostname: 'src-node1', Self: true, ManagerStatus: '' });
  });
});

describe('get-node-names / get-node-status / get-node-info', () => {
  it('get-node-names: the three hostnames', async () => {
    const r = await call('GET', '/swarm/get-node-names');
    expect(r.status).toBe(200);
    expect(r.body).toEqual(['src-node1', 'src-node2', 'src-node3']);
  });

  it('get-node-status equals `docker node ls --format json`, field by field, in its order', async () => {
    const [r, lines] = await Promise.all([call('GET', '/swarm/get-node-status'), cli('node', 'ls', '--format', 'json')]);
    expect(r.status).toBe(200);
    expect(r.body).toHaveLength(3);
    expect(r.body.map((n: any) => n.Hostname)).toEqual(lines.map((l) => l.Hostname));
    for (const line of lines) {
      const ours = r.body.find((n: any) => n.ID === line.ID);
      for (const k of Object.keys(line)) expect([k, ours[k]]).toEqual([k, line[k]]);
      expect(Object.keys(ours)).toEqual(Object.keys(line));
    }
    expect(r.body.find((n: any) => n.Hostname === 'src-node1')).toMatchObject({ ManagerStatus: 'Leader', Self: true, Status: 'Ready', TLSStatus: 'Ready' });
  });

  it('get-node-status?hostname=: that node; unknown 404; invalid 400', async () => {
    const [r, lines] = await Promise.all([call('GET', '/swarm/get-node-status?hostname=src-node2'), cli('node', 'ls', '--format', 'json')]);
    expect(r.status).toBe(200);
    expect(r.body).toEqual(lines.find((l) => l.Hostname === 'src-node2'));
    const missing = await call('GET', '/swarm/get-node-status?hostname=src-node9');
    expect([missing.status, missing.body.code]).toEqual([404, 'node_not_found']);
    expect((await call('GET', '/swarm/get-node-status?hostname=' + encodeURIComponent('no such!'))).status).toBe(400);
  });

  it('get-node-info?hostname=: `docker node inspect` unchanged; missing hostname 400; unknown 404', async () => {
    const r = await call('GET', '/swarm/get-node-info?hostname=src-node3');
    expect(r.status).toBe(200);
    const [inspected] = await cliInspect('node', 'inspect', r.body.ID);
    expect(r.body).toEqual(inspected);
    expect(r.body.Description.Hostname).toBe('src-node3');
    expect((await call('GET', '/swarm/get-node-info')).status).toBe(400);
    expect((await call('GET', '/swarm/get-node-info?hostname=src-node9')).body.code).toBe('node_not_found');
  });

  it('user tokens may not read nodes (admin routes)', async () => {
    expect((await call('GET', '/swarm/get-node-names', { token: null })).status).toBe(401);
  });
});

describe('create-app (swarm)', () => {
  it('a replicated job by default: started at once, one task, labelled as solo apps are, no registry asked', async () => {
    const u = user('job');
    const r = await call('POST', `/swarm/create-app?image=${IMAGES.busybox}&user=${u}`);
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ name: `busybox--${u}`, state: 'pending', image: IMAGES.busybox, mode: 'replicated-job', replicas: 1, ports: [] });
    const s = await manager.inspectService(r.body.id);
    expect(s.Spec.Name).toBe(`busybox--${u}`);
    expect(s.Spec.Mode).toEqual({ ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 1 } });
    expect(s.Spec.TaskTemplate.ContainerSpec.Image).toBe(IMAGES.busybox); // as given: not pinned to a registry digest
    expect(s.Spec.Labels).toMatchObject({
      [LABELS.schema]: LABEL_SCHEMA_VERSION,
      [LABELS.facility]: 'swarm',
      [LABELS.app]: `busybox--${u}`,
      [LABELS.user]: u,
      [LABELS.imageReference]: IMAGES.busybox,
      [LABELS.imageNormalized]: `docker.io/${IMAGES.busybox}`,
    });
    expect(s.Spec.TaskTemplate.ContainerSpec.Labels).toEqual(s.Spec.Labels);
    const st = await until('the job task to run', 20_000, async () => {
      const x = await call('GET', `/swarm/get-app-status?name=busybox--${u}`);
      // the service's ServiceStatus counts lag the task's state by a moment: wait for both
      return x.body.State === 'running' && x.body.Replicas === '1/1 (0/1 completed)' && x.body;
    });
    expect(st).toMatchObject({ Mode: 'replicated job', Replicas: '1/1 (0/1 completed)', Tasks: [{ State: 'running', DesiredState: 'complete' }] });
  });

  it('a long-running replicated service with the facility option: tasks spread over the 3 nodes, ports in host mode (swarm.publish: all)', async () => {
    const u = user('rep');
    const r = await call('POST', `/swarm3/create-app?image=${IMAGES.httpd}&user=${u}`);
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ mode: 'replicated', replicas: 3, ports: ['80/tcp'] });
    const s = await manager.inspectService(r.body.id);
    expect(s.Spec.Mode).toEqual({ Replicated: { Replicas: 3 } });
    expect(s.Spec.EndpointSpec).toEqual({ Mode: 'dnsrr', Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishMode: 'host' }] });
    const st = await until('3 running tasks', 30_000, async () => {
      const x = await call('GET', `/swarm3/get-app-status?name=httpd--${u}`);
      return x.body.Tasks?.length === 3 && x.body.Tasks.every((t: any) => t.State === 'running') && x.body;
    });
    expect(st.Tasks.map((t: any) => t.Node).sort()).toEqual(['src-node1', 'src-node2', 'src-node3']);
    expect(st.Node.split(',').sort()).toEqual(['src-node1', 'src-node2', 'src-node3']);
    expect(st.State).toBe('running');
    for (const t of st.Tasks) expect(t.Ports).toMatch(/^\*:\d+->80\/tcp$/);
    // the port answers on the node that runs the task (host mode; no routing mesh)
    const t1 = st.Tasks.find((t: any) => t.Node === 'src-node1');
    const port = /^\*:(\d+)/.exec(t1.Ports)![1];
    const { stdout } = await run('ip', ['netns', 'exec', labNetns(1), 'busybox', 'wget', '-qO-', `http://127.0.0.1:${port}/`]).catch((e) => ({ stdout: String(e) }));
    expect(stdout).toContain('src-test httpd');
  });

  it('400 when IMAGE--USER breaks the service-name rule (dots; a trailing _), naming the rule and the parameter', async () => {
    const dotted = await call('POST', `/swarm/create-app?image=src-test/my.app:latest&user=${user('n')}`);
    expect(dotted.status).toBe(400);
    expect(dotted.body).toMatchObject({ code: 'invalid_parameter', parameter: 'image' });
    expect(dotted.body.rule).toContain('no dots');
    const underscore = await call('POST', `/swarm/create-app?image=${IMAGES.busybox}&user=bob_`);
    expect(underscore.status).toBe(400);
    expect(underscore.body).toMatchObject({ code: 'invalid_parameter', parameter: 'user' });
    const long = await call('POST', `/swarm/create-app?image=${IMAGES.busybox}&user=${'a'.repeat(32)}x`);
    expect(long.status).toBe(400);
  });

  it('404 for an image not on the manager; 409 for an existing app; 403 for an image not approved', async () => {
    const u = user('dup');
    expect((await call('POST', `/swarm/create-app?image=src-test/nothere:latest&user=${u}`)).body.code).toBe('image_not_found');
    expect((await call('POST', `/swarm/create-app?image=${IMAGES.busybox}&user=${u}`)).status).toBe(201);
    const again = await call('POST', `/swarm/create-app?image=${IMAGES.busybox}&user=${u}`);
    expect([again.status, again.body.code]).toEqual([409, 'app_exists']);
    expect((await call('POST', `/swarm/create-app?image=busybox:latest&user=${u}`)).status).toBe(403);
  });
});

describe('get-app-status / get-app-info / get-app-names / get-users (swarm)', () => {
  it('status fields equal `docker service ls --format json`, plus the current task state and node', async () => {
    const u = user('st');
    const name = `httpd--${u}`;
    expect((await call('POST', `/swarm3/create-app?image=${IMAGES.httpd}&user=${u}`)).status).toBe(201);
    await until('3/3 replicas', 30_000, async () => (await call('GET', `/swarm3/get-app-status?name=${name}`)).body.Replicas === '3/3');
    const [r, lines] = await Promise.all([call('GET', `/swarm3/get-app-status?name=${name}`), cli('service', 'ls', '--format', 'json', '--filter', `name=${name}`)]);
    const line = lines.find((l) => l.Name === name);
    for (const k of Object.keys(line)) expect([k, r.body[k]]).toEqual([k, line[k]]);
    expect(Object.keys(r.body)).toEqual(['ID', 'Image', 'Mode', 'Name', 'Node', 'Ports', 'Replicas', 'State', 'Tasks']);
    // the tasks are `docker service ps`'s current ones
    const ps = await cli('service', 'ps', name, '--format', 'json', '--filter', 'desired-state=running');
    expect(r.body.Tasks.map((t: any) => t.ID.slice(0, 12)).sort()).toEqual(ps.map((p) => p.ID).sort());
    for (const p of ps) {
      const t = r.body.Tasks.find((x: any) => x.ID.startsWith(p.ID));
      expect([t.Name, t.Node, t.Error]).toEqual([p.Name, p.Node, p.Error]);
    }
    // all apps of the facility: an array in `docker service ls` order
    const all = await call('GET', '/swarm3/get-app-status');
    expect(all.body.map((s: any) => s.Name)).toContain(name);
  });

  it('a completed job reads as complete, not failed', async () => {
    const u = user('done');
    const name = `busybox--${u}`;
    // set-up through the Engine: a job whose command exits 0, labelled as create-app labels
    const labels = { [LABELS.schema]: LABEL_SCHEMA_VERSION, [LABELS.facility]: 'swarm', [LABELS.app]: name, [LABELS.user]: u, [LABELS.imageReference]: IMAGES.busybox };
    await manager.createService({
      Name: name,
      Labels: labels,
      TaskTemplate: { ContainerSpec: { Image: IMAGES.busybox, Args: ['true'], Labels: labels }, RestartPolicy: { Condition: 'on-failure' } },
      Mode: { ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 1 } },
    });
    const st = await until('the job to complete', 30_000, async () => {
      const x = await call('GET', `/swarm/get-app-status?name=${name}`);
      return x.body.State === 'complete' && x.body;
    });
    expect(st).toMatchObject({ Mode: 'replicated job', State: 'complete', Tasks: [{ State: 'complete', DesiredState: 'complete', ExitCode: 0, Error: '' }] });
    const [line] = await cli('service', 'ls', '--format', 'json', '--filter', `name=${name}`);
    expect(st.Replicas).toBe(line.Replicas);
    expect(st.Replicas).toBe('0/1 (1/1 completed)');
    // no running task: no stats, and no error
    const stats = await call('GET', `/swarm/get-app-stats?name=${name}`);
    expect([stats.status, stats.body]).toEqual([200, []]);
  });

  it("get-app-info: the Engine's service inspect (with defaults, as `docker service inspect`) unchanged; unknown 404; missing name 400", async () => {
    const u = user('info');
    const created = await call('POST', `/swarm/create-app?image=${IMAGES.busybox}&user=${u}`);
    const r = await call('GET', `/swarm/get-app-info?name=busybox--${u}`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual(await manager.inspectService(created.body.id, { insertDefaults: true }));
    // the CLI prints the same object (through its own types, which add fields newer than this Engine)
    const [inspected] = await cliInspect('service', 'inspect', created.body.id);
    expect(inspected).toMatchObject(r.body);
    expect((await call('GET', '/swarm/get-app-info?name=busybox--nobody')).body.code).toBe('app_not_found');
    expect((await call('GET', '/swarm/get-app-status?name=busybox--nobody')).status).toBe(404);
    expect((await call('GET', '/swarm/get-app-info')).status).toBe(400);
    // another facility's apps are invisible
    expect((await call('GET', `/swarm3/get-app-info?name=busybox--${u}`)).status).toBe(404);
  });

  it('get-app-names and get-users list the services of the facility', async () => {
    const u = user('names');
    await call('POST', `/swarm/create-app?image=${IMAGES.busybox}&user=${u}`);
    await call('POST', `/swarm/create-app?image=${IMAGES.httpd}&user=${u}`);
    const names = await call('GET', `/swarm/get-app-names?user=${u}`);
    expect(names.body).toEqual([`busybox--${u}`, `httpd--${u}`]);
    const all = await call('GET', '/swarm/get-app-names');
    expect(all.body).toEqual(expect.arrayContaining([`busybox--${u}`, `httpd--${u}`]));
    const usersAnswer = await call('GET', '/swarm/get-users');
    expect(usersAnswer.body).toContain(u);
    expect((await call('GET', '/swarm3/get-users')).body).not.toContain(u);
  });
});

describe('get-app-stats (swarm)', () => {
  let name = '';
  beforeAll(async () => {
    const u = user('stats');
    name = `httpd--${u}`;
    expect((await call('POST', `/swarm3/create-app?image=${IMAGES.httpd}&user=${u}`)).status).toBe(201);
    await until('3 running tasks', 30_000, async () => {
      const x = await call('GET', `/swarm3/get-app-status?name=${name}`);
      return x.body.Tasks?.filter((t: any) => t.State === 'running').length === 3;
    });
  });

  it('one entry per task, read from the Engine of the node it runs on (workers included)', async () => {
    const t0 = performance.now();
    const r = await call('GET', `/swarm3/get-app-stats?name=${name}`);
    const ms = performance.now() - t0;
    console.log(`[swarm] get-app-stats for a 3-task service: ${ms.toFixed(0)} ms`);
    expect(r.status).toBe(200);
    expect(r.body).toHaveLength(3);
    expect(r.body.map((e: any) => e.Node).sort()).toEqual(['src-node1', 'src-node2', 'src-node3']);
    const status = await call('GET', `/swarm3/get-app-status?name=${name}`);
    for (const e of r.body) {
      expect(Object.keys(e)).toEqual(['BlockIO', 'CPUPerc', 'Container', 'ID', 'MemPerc', 'MemUsage', 'Name', 'NetIO', 'PIDs', 'Service', 'Task', 'Node']);
      const task = status.body.Tasks.find((t: any) => t.ID === e.Task);
      expect(e.Service).toBe(name);
      expect(e.ID).toBe(task.ContainerID.slice(0, 12));
      expect(e.Name).toMatch(new RegExp(`^${name}\\.\\d+\\.${task.ID}$`));
      expect(e.CPUPerc).toMatch(/^\d+\.\d\d%$/);
      expect(Number(e.PIDs)).toBeGreaterThan(0);
      // the container lives on that node's Engine, not on the manager's (unless it is the manager)
      const k = Number(e.Node.slice(-1));
      expect((await nodeEngine(k).inspectContainer(task.ContainerID)).Id).toBe(task.ContainerID);
    }
  });

  it('a node that cannot be reached: an error entry for its task, the others still answer (207)', async () => {
    useConfig({ nodes: { ...facilityJson.nodes, 'src-node3': `unix://${LAB}/no-such-node.sock` } });
    try {
      const r = await call('GET', `/swarm3/get-app-stats?name=${name}`);
      expect(r.status).toBe(207);
      const bad = r.body.filter((e: any) => e.error);
      expect(bad).toHaveLength(1);
      expect(bad[0]).toMatchObject({ Service: name, Node: 'src-node3', error: { status: 503, code: 'engine_unavailable' } });
      expect(bad[0].error.detail).toContain("Node 'src-node3' cannot be reached");
      expect(
        r.body
          .filter((e: any) => !e.error)
          .map((e: any) => e.Node)
          .sort(),
      ).toEqual(['src-node1', 'src-node2']);
      // no endpoint configured for a worker: an error entry too; the manager's own tasks use the facility Engine
      useConfig({ nodes: {} });
      const r2 = await call('GET', `/swarm3/get-app-stats?name=${name}`);
      expect(r2.status).toBe(207);
      expect(r2.body.filter((e: any) => !e.error).map((e: any) => e.Node)).toEqual(['src-node1']);
      expect(r2.body.find((e: any) => e.Node === 'src-node2').error.detail).toContain("No Engine endpoint for node 'src-node2'");
    } finally {
      useConfig();
    }
  });

  it('unknown app 404', async () => {
    expect((await call('GET', '/swarm3/get-app-stats?name=httpd--nobody')).body.code).toBe('app_not_found');
  });
});

describe('get-app-logs (swarm)', () => {
  let name = '';
  let tasks: { ID: string; ContainerID: string; Node: string }[] = [];
  /** Writes `text` as a line of the task container's main process (PID 1's stdout), on the task's node. */
  const say = (t: { ContainerID: string; Node: string }, text: string) =>
    run(DOCKER_CLI, ['-H', `unix://${sock(Number(t.Node.slice(-1)))}`, 'exec', t.ContainerID, 'sh', '-c', `echo ${text} > /proc/1/fd/1; echo ${text}-err > /proc/1/fd/2`]);
  beforeAll(async () => {
    const u = user('logs');
    name = `busybox--${u}`;
    expect((await call('POST', `/swarm3/create-app?image=${IMAGES.busybox}&user=${u}`)).status).toBe(201);
    tasks = await until('3 running tasks', 30_000, async () => {
      const x = await call('GET', `/swarm3/get-app-status?name=${name}`);
      const running = x.body.Tasks?.filter((t: any) => t.State === 'running' && t.ContainerID) ?? [];
      return running.length === 3 ? running : undefined;
    });
    for (const t of tasks) await say(t, `hello-${t.ID}`);
  });

  it("every task's lines, read from the Engine of its node, each with its task", async () => {
    const r = await call('GET', `/swarm3/get-app-logs?name=${name}`);
    expect(r.status).toBe(200);
    expect(r.body.truncated).toBeNull();
    const lines = r.body.lines as { stream: string; line: string; task: string }[];
    expect(lines).toHaveLength(6);
    for (const t of tasks) {
      expect(lines.filter((l) => l.task === t.ID)).toEqual(
        expect.arrayContaining([
          { stream: 'stdout', line: `hello-${t.ID}`, task: t.ID },
          { stream: 'stderr', line: `hello-${t.ID}-err`, task: t.ID },
        ]),
      );
    }
    expect((await call('GET', '/swarm3/get-app-logs?name=busybox--nobody')).status).toBe(404);
  });

  it('follow=true: new lines of any task as they come; the stream ends when the service is removed', async () => {
    const res = await app.fetch(new Request(`http://api.test/swarm3/get-app-logs?name=${name}&tail=0&follow=true`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }));
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let text = '';
    const t = tasks[tasks.length - 1];
    await say(t, `live-${t.ID}`);
    while (!text.includes(`"line":"live-${t.ID}","task"`)) text += dec.decode((await reader.read()).value);
    expect(text).toContain(`"line":"live-${t.ID}","task":"${t.ID}"`);
    expect((await call('POST', `/swarm3/kill-app?name=${name}`)).status).toBe(200);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += dec.decode(value);
    }
    expect(text).toMatch(/event: end\n/);
  });
});

describe('kill-app (swarm)', () => {
  it('removes the service; then 404', async () => {
    const u = user('kill');
    const name = `busybox--${u}`;
    const created = await call('POST', `/swarm/create-app?image=${IMAGES.busybox}&user=${u}`);
    const r = await call('POST', `/swarm/kill-app?name=${name}`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ name, id: created.body.id, state: 'removed' });
    expect((await manager.listServices({ filters: { name: [name] } })).filter((s) => s.Spec.Name === name)).toEqual([]);
    expect((await call('GET', `/swarm/get-app-status?name=${name}`)).status).toBe(404);
    expect((await call('POST', `/swarm/kill-app?name=${name}`)).body.code).toBe('app_not_found');
    // the name is free again
    expect((await call('POST', `/swarm/create-app?image=${IMAGES.busybox}&user=${u}`)).status).toBe(201);
  });
});

describe('nodes going down and coming back', () => {
  it('a stopped node reads Down within the heartbeat, and Ready again after a restart', async () => {
    const t0 = performance.now();
    await lab('stop-node', '3');
    await until('src-node3 Down', 20_000, async () => (await call('GET', '/swarm/get-node-status?hostname=src-node3')).body.Status === 'Down');
    const down = performance.now() - t0;
    const t1 = performance.now();
    await lab('start-node', '3');
    await until('src-node3 Ready', 20_000, async () => (await call('GET', '/swarm/get-node-status?hostname=src-node3')).body.Status === 'Ready');
    const ready = performance.now() - t1;
    console.log(`[swarm] node 3 Down after ${(down / 1000).toFixed(1)} s, Ready again after ${(ready / 1000).toFixed(1)} s`);
    const lines = await cli('node', 'ls', '--format', 'json');
    expect(lines.find((l) => l.Hostname === 'src-node3').Status).toBe('Ready');
  });

  it('two nodes with one hostname (a node that left and rejoined): hostname lookups 409 naming both IDs', async () => {
    const n3 = nodeEngine(3);
    const oldId = (await n3.info()).Swarm.NodeID as string;
    const token = ((await manager.call({ method: 'GET', path: '/swarm', statusCodes: S_SWARM_READ })) as any).JoinTokens.Worker as string;
    await n3.call({ method: 'POST', path: '/swarm/leave', query: { force: false }, statusCodes: { 200: true, 503: 'not part of a swarm' } });
    await n3.call({
      method: 'POST',
      path: '/swarm/join',
      body: { ListenAddr: `${SUBNET}.3:2377`, AdvertiseAddr: `${SUBNET}.3`, RemoteAddrs: [`${SUBNET}.1:2377`], JoinToken: token },
      statusCodes: { 200: true, 400: 'bad parameter', 503: 'already part of a swarm' },
      timeoutMs: 60_000,
    });
    const newId = (await n3.info()).Swarm.NodeID as string;
    expect(newId).not.toBe(oldId);
    const r = await until('the rejoined node', 20_000, async () => {
      const x = await call('GET', '/swarm/get-node-status?hostname=src-node3');
      return x.status === 409 && x;
    });
    expect(r.body).toMatchObject({ code: 'state_conflict', hostname: 'src-node3' });
    expect([...r.body.ids].sort()).toEqual([oldId, newId].sort());
    expect(r.body.detail).toContain(oldId);
    expect(r.body.detail).toContain(newId);
    expect((await call('GET', '/swarm/get-node-info?hostname=src-node3')).status).toBe(409);
    // the list keys nodes by ID: both entries are there
    const all = await call('GET', '/swarm/get-node-status');
    expect(
      all.body
        .filter((n: any) => n.Hostname === 'src-node3')
        .map((n: any) => n.ID)
        .sort(),
    ).toEqual([oldId, newId].sort());
    expect((await call('GET', '/swarm/get-node-names')).body).toEqual(['src-node1', 'src-node2', 'src-node3', 'src-node3']);
  });
});

/** The lab's network namespace name of node K (scripts/swarm-lab.sh: a hash of a non-default lab dir). */
function labNetns(k: number): string {
  return `srclab${createHash('md5').update(LAB).digest('hex').slice(0, 6)}-n${k}`;
}
