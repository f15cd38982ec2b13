/**
 * formatNode/formatService against a swarm recorded for two seconds on this machine's Engine
 * (GET /info, /nodes, /services?status=true) and the docker CLI 28's `docker node ls` /
 * `docker service ls --format json` output for it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cliJsonLine } from '../../core/format/go.ts';
import { compareServiceNames, formatNode, formatService, servicePorts, type EngineNode, type EngineService, type EngineTLSInfo } from '../../core/format/nodes.ts';

const fx = JSON.parse(readFileSync(new URL('../fixtures/engine/format-swarm.json', import.meta.url), 'utf8')) as {
  swarmInfo: { NodeID: string; Cluster: { TLSInfo: EngineTLSInfo } };
  nodes: EngineNode[];
  services: EngineService[];
  cli: { nodeLs: string; serviceLs: string };
};

describe('docker node ls --format json', () => {
  it('matches the CLI byte for byte', () => {
    const [node] = fx.nodes;
    const line = formatNode(node, fx.swarmInfo.NodeID, fx.swarmInfo.Cluster.TLSInfo);
    expect(cliJsonLine(line)).toBe(fx.cli.nodeLs);
    expect(line).toMatchObject({ Availability: 'Active', ManagerStatus: 'Leader', Self: true, Status: 'Ready', TLSStatus: 'Ready' });
  });

  it('other nodes, reachability and TLS states', () => {
    const [node] = fx.nodes;
    const worker: EngineNode = { ...node, ID: 'w1', ManagerStatus: null, Spec: { Availability: 'drain', Role: 'worker' }, Status: { State: 'down' } };
    expect(formatNode(worker, fx.swarmInfo.NodeID, fx.swarmInfo.Cluster.TLSInfo)).toMatchObject({
      Availability: 'Drain',
      ManagerStatus: '',
      Self: false,
      Status: 'Down',
      TLSStatus: 'Ready',
    });
    const follower: EngineNode = { ...node, ManagerStatus: { Leader: false, Reachability: 'unreachable' } };
    expect(formatNode(follower, 'other').ManagerStatus).toBe('Unreachable');
    expect(formatNode(follower, 'other').TLSStatus).toBe('Unknown');
    const rotated = { ...fx.swarmInfo.Cluster.TLSInfo, CertIssuerPublicKey: 'b3RoZXI=' };
    expect(formatNode(node, 'x', rotated).TLSStatus).toBe('Needs Rotation');
    expect(formatNode({ ...node, Description: { ...node.Description, TLSInfo: {} } }, 'x', fx.swarmInfo.Cluster.TLSInfo).TLSStatus).toBe('Unknown');
  });
});

describe('docker service ls --format json', () => {
  it('matches the CLI byte for byte, in the CLI order', () => {
    const sorted = [...fx.services].sort((a, b) => compareServiceNames(a.Spec!.Name!, b.Spec!.Name!));
    expect(sorted.map((s) => cliJsonLine(formatService(s))).join('')).toBe(fx.cli.serviceLs);
    expect(fx.cli.serviceLs).toContain('"Replicas":"0/0 (max 2 per node)"');
    expect(fx.cli.serviceLs).toContain('"Replicas":"0/1 (0/3 completed)"');
    expect(fx.cli.serviceLs).toContain('"Ports":"*:18080-18081-\\u003e80-81/tcp, *:18053-\\u003e53/udp"');
  });

  it('port grouping rules', () => {
    const p = (PublishedPort: number, TargetPort: number, Protocol = 'tcp', PublishMode = 'ingress') => ({ PublishedPort, TargetPort, Protocol, PublishMode });
    expect(servicePorts(null)).toBe('');
    expect(servicePorts([p(80, 80), p(81, 80)])).toBe('*:80-81->80/tcp');
    expect(servicePorts([p(80, 80), p(81, 81), p(82, 80)])).toBe('*:80-81->80-81/tcp, *:82->80/tcp');
    expect(servicePorts([p(90, 90), p(80, 80, 'udp'), p(8080, 80, 'tcp', 'host')])).toBe('*:90->90/tcp, *:80->80/udp');
  });

  it('images are shown without digest; natural name order', () => {
    const svc: EngineService = {
      ID: 'abcdefghijklmnopqrstuvwxy',
      Spec: { Name: 'x', Mode: { Global: {} }, TaskTemplate: { ContainerSpec: { Image: `docker.io/library/nginx:1.25@sha256:${'a'.repeat(64)}` } } },
      ServiceStatus: { RunningTasks: 1, DesiredTasks: 1 },
    };
    expect(formatService(svc)).toEqual({ ID: 'abcdefghijkl', Image: 'nginx:1.25', Mode: 'global', Name: 'x', Ports: '', Replicas: '1/1' });
    const names = ['web10', 'web2', 'web-1', 'web02', 'Web', 'web'];
    expect(names.sort(compareServiceNames)).toEqual(['Web', 'web', 'web2', 'web02', 'web10', 'web-1']);
  });
});
