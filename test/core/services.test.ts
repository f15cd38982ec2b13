/**
 * Swarm-mode pieces that need no swarm: mode detection, the service-name rule, the service spec
 * under a create policy, current tasks and the status shape, the facility config's swarm
 * settings. The lab tests (test/swarm/swarm.test.ts) cover the same on a real swarm.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.ts';
import { Engine } from '../../core/engine.ts';
import type { Facility } from '../../core/facility.ts';
import { modeFromInfo } from '../../core/mode.ts';
import { resolvePolicy } from '../../core/policy.ts';
import { parseImageReference } from '../../core/reference.ts';
import { assertServiceName, serviceSpec } from '../../core/services.ts';
import { currentTasks, formatServiceStatus } from '../../core/service-reads.ts';
import { LABELS } from '../../core/naming.ts';
import { STATUS_OF } from '../../core/http.ts';

function facility(extra: Record<string, unknown> = {}): Facility {
  const config = parseConfig({ facilities: { lab: { engine: { host: 'unix:///nowhere.sock' }, mode: 'swarm', ...extra } } }, 'test').facilities.lab;
  return { id: 'lab', config, engine: new Engine(config.engine) };
}

describe('mode from GET /info', () => {
  it('swarm only for an active manager', () => {
    expect(modeFromInfo({ Swarm: { LocalNodeState: 'active', ControlAvailable: true } })).toBe('swarm');
    expect(modeFromInfo({ Swarm: { LocalNodeState: 'active', ControlAvailable: false } })).toBe('solo'); // a worker
    expect(modeFromInfo({ Swarm: { LocalNodeState: 'inactive', ControlAvailable: false } })).toBe('solo');
    expect(modeFromInfo({ Swarm: { LocalNodeState: 'pending', ControlAvailable: true } })).toBe('solo');
    expect(modeFromInfo({})).toBe('solo');
  });
});

describe("Docker's service-name rule", () => {
  const check = (image: string, user: string): unknown => {
    const ref = parseImageReference(image);
    try {
      assertServiceName(`${ref.name}--${user}`, ref, user);
      return 'ok';
    } catch (e: any) {
      return [STATUS_OF[e.code as keyof typeof STATUS_OF], e.extra.parameter];
    }
  };
  it('letters, digits, - and _ ; no dots; starts and ends with a letter or digit', () => {
    expect(check('busybox', 'alice')).toBe('ok');
    expect(check('team/jupyter-lab:1.2', 'Bob_2')).toBe('ok');
    expect(check('my__app', '_x')).toBe('ok');
    expect(check('my.app', 'alice')).toEqual([400, 'image']);
    expect(check('127.0.0.1:5000/a.b/c.d:1', 'alice')).toEqual([400, 'image']);
    expect(check('busybox', 'bob_')).toEqual([400, 'user']);
  });
});

describe('service spec', () => {
  const ref = parseImageReference('src-test/httpd:latest');
  const params = { publishHost: '0.0.0.0', ports: ['53/udp', '80/tcp'], requested: {} };

  it('a replicated job by default, host-mode ports, dnsrr, labels on service and containers', () => {
    const f = facility();
    const spec: any = serviceSpec(f, { name: 'httpd--alice', user: 'alice', ref, imageId: 'sha256:abc', params, resolved: resolvePolicy(f.config.policy, 'alice') });
    expect(spec.Name).toBe('httpd--alice');
    expect(spec.Mode).toEqual({ ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 1 } });
    expect(spec.TaskTemplate.RestartPolicy).toEqual({ Condition: 'on-failure' });
    expect(spec.EndpointSpec).toEqual({
      Mode: 'dnsrr',
      Ports: [
        { Protocol: 'udp', TargetPort: 53, PublishMode: 'host' },
        { Protocol: 'tcp', TargetPort: 80, PublishMode: 'host' },
      ],
    });
    expect(spec.TaskTemplate.ContainerSpec.Image).toBe('src-test/httpd:latest');
    expect(spec.Labels[LABELS.app]).toBe('httpd--alice');
    expect(spec.Labels[LABELS.facility]).toBe('lab');
    expect(spec.TaskTemplate.ContainerSpec.Labels).toEqual(spec.Labels);
    expect(spec.TaskTemplate.Resources).toEqual({ Limits: {} });
    expect(spec.TaskTemplate.ContainerSpec.Env).toBeUndefined();
    const told: any = serviceSpec(f, {
      name: 'httpd--alice',
      user: 'alice',
      ref,
      imageId: 'sha256:abc',
      params,
      resolved: resolvePolicy(f.config.policy, 'alice'),
      env: ['SRC_BASE_URL=http://x.apps.example/'],
    });
    expect(told.TaskTemplate.ContainerSpec.Env).toEqual(['SRC_BASE_URL=http://x.apps.example/']);
  });

  it('replicated services with N replicas; the create policy as limits, user and mounts', () => {
    const f = facility({
      swarm: { serviceMode: 'replicated', replicas: 3 },
      policy: { memory: { default: '512m' }, cpus: { default: 0.5 }, pids: { default: 100 }, mounts: [{ source: '/home/{user}', target: '/home' }], userMap: { alice: '1001:1001' } },
    });
    const spec: any = serviceSpec(f, { name: 'httpd--alice', user: 'alice', ref, imageId: 'sha256:abc', params, resolved: resolvePolicy(f.config.policy, 'alice') });
    expect(spec.Mode).toEqual({ Replicated: { Replicas: 3 } });
    expect(spec.TaskTemplate.RestartPolicy).toEqual({ Condition: 'any' });
    expect(spec.TaskTemplate.Resources.Limits).toEqual({ MemoryBytes: 512 * 1024 ** 2, NanoCPUs: 5e8, Pids: 100 });
    expect(spec.TaskTemplate.ContainerSpec).toMatchObject({
      User: '1001:1001',
      Mounts: [{ Type: 'bind', Source: '/home/alice', Target: '/home', ReadOnly: false }],
      Privileges: { NoNewPrivileges: true },
    });
  });

  it('restart: configured; a job never restarts on any exit', () => {
    const job: any = serviceSpec(facility({ swarm: { restart: 'any' } }), { name: 'x--y', user: 'y', ref, imageId: '', params, resolved: resolvePolicy(facility().config.policy, 'y') });
    expect(job.TaskTemplate.RestartPolicy.Condition).toBe('on-failure');
    const rep: any = serviceSpec(facility({ swarm: { serviceMode: 'replicated', restart: 'none' } }), {
      name: 'x--y',
      user: 'y',
      ref,
      imageId: '',
      params,
      resolved: resolvePolicy(facility().config.policy, 'y'),
    });
    expect(rep.TaskTemplate.RestartPolicy.Condition).toBe('none');
  });
});

describe('config', () => {
  it('nodes: a URL string is short for { host }; invalid ones are named', () => {
    const f = facility({ nodes: { 'src-node1': 'unix:///tmp/n1.sock', 'n2.example.org': { host: 'tcp://10.0.0.2:2376', tls: { ca: '/ca.pem' } } } });
    expect(f.config.nodes).toEqual({ 'src-node1': { host: 'unix:///tmp/n1.sock' }, 'n2.example.org': { host: 'tcp://10.0.0.2:2376', tls: { ca: '/ca.pem' } } });
    expect(() => facility({ nodes: { n1: 'ftp://x' } })).toThrow(/facilities\.lab\.nodes\.n1/);
    expect(() => facility({ swarm: { serviceMode: 'global' } })).toThrow(/serviceMode: must be 'replicated-job' or 'replicated'/);
    expect(() => facility({ swarm: { replicas: 0 } })).toThrow(/replicas: must be at least 1/);
    expect(facility().config.swarm).toEqual({
      serviceMode: 'replicated-job',
      replicas: 1,
      publish: 'none',
      connector: { image: 'src-container-api/connector:latest', user: '65534:65534' },
    });
    expect(facility({ swarm: { publish: 'all' } }).config.swarm.publish).toBe('all');
    expect(() => facility({ swarm: { publish: '0.0.0.0' } })).toThrow(/publish: must be 'none' or 'all'/);
  });
});

describe('current tasks and the status shape', () => {
  // recorded from the lab (Engine 20.10): a replicated job of 3 whose first task has slot 0
  // (omitted in JSON) and a slot whose first task failed and was replaced
  const service = {
    ID: 'lmbdzdej25xbh8v36ohw6v0ja',
    Spec: { Name: 'busybox--alice', Labels: {}, Mode: { ReplicatedJob: { MaxConcurrent: 3, TotalCompletions: 3 } }, TaskTemplate: { ContainerSpec: { Image: 'src-test/busybox:latest' } } },
    ServiceStatus: { RunningTasks: 0, DesiredTasks: 3, CompletedTasks: 3 },
    Endpoint: { Spec: {} },
  };
  const task = (id: string, slot: number | undefined, node: string, state: string, created: string, extra: Record<string, unknown> = {}): any => ({
    ID: id,
    ServiceID: service.ID,
    ...(slot ? { Slot: slot } : {}),
    NodeID: node,
    CreatedAt: created,
    DesiredState: 'complete',
    Status: { State: state, Message: 'finished', ContainerStatus: { ContainerID: `c-${id}`, ExitCode: 0 }, PortStatus: {} },
    ...extra,
  });
  const tasks = [
    task('t0', undefined, 'node1', 'complete', '2026-11-29T12:40:41.857028858Z'),
    task('t1old', 1, 'node3', 'failed', '2026-11-29T12:40:41.8Z', { DesiredState: 'shutdown' }),
    task('t1', 1, 'node3', 'complete', '2026-11-29T12:40:41.85707315Z'),
    task('t2', 2, 'node2', 'complete', '2026-11-29T12:40:41.857095211Z'),
    { ...task('other', 1, 'node2', 'running', '2026-11-29T12:50:00Z'), ServiceID: 'another' },
  ];
  const hostnames = new Map([
    ['node1', { hostname: 'src-node1', state: 'ready' }],
    ['node2', { hostname: 'src-node2', state: 'ready' }],
    ['node3', { hostname: 'src-node3', state: 'ready' }],
  ]);

  it('the newest task of each slot (fractional seconds compared as numbers), in slot order', () => {
    expect(currentTasks(service as any, tasks).map((t) => t.ID)).toEqual(['t0', 't1', 't2']);
  });

  it('docker service ls fields, then Node, State and Tasks; a finished job is complete', () => {
    const st = formatServiceStatus(service as any, tasks, hostnames);
    expect(st).toMatchObject({
      ID: 'lmbdzdej25xb',
      Image: 'src-test/busybox:latest',
      Mode: 'replicated job',
      Name: 'busybox--alice',
      Node: 'src-node1,src-node3,src-node2',
      Ports: '',
      Replicas: '0/3 (3/3 completed)',
      State: 'complete',
    });
    expect(st.Tasks.map((t) => t.Name)).toEqual(['busybox--alice.node1', 'busybox--alice.1', 'busybox--alice.2']);
    expect(st.Tasks[1]).toEqual({
      ID: 't1',
      Name: 'busybox--alice.1',
      Node: 'src-node3',
      NodeID: 'node3',
      DesiredState: 'complete',
      State: 'complete',
      NodeState: 'ready',
      Message: 'finished',
      Error: '',
      ContainerID: 'c-t1',
      ExitCode: 0,
      Ports: '',
    });
  });

  it('a task the swarm last saw running on a node that is Down now is unknown, with the node state', () => {
    const running = [task('r1', 1, 'node2', 'running', '2026-11-29T12:40:41Z', { DesiredState: 'running' })];
    const down = new Map([...hostnames, ['node2', { hostname: 'src-node2', state: 'down' }]]);
    const st = formatServiceStatus({ ...service, Spec: { ...service.Spec, Mode: { Replicated: { Replicas: 1 } } } } as any, running, down);
    expect(st.State).toBe('unknown');
    expect(st.Tasks[0]).toMatchObject({ Node: 'src-node2', State: 'unknown', NodeState: 'down' });
    expect(formatServiceStatus(service as any, running, hostnames).Tasks[0]).toMatchObject({ State: 'running', NodeState: 'ready' });
  });
});
