/**
 * Nodes. In swarm mode (the Engine is an active swarm manager) they are the swarm's nodes
 * (`GET /nodes`), keyed by ID; in solo mode the Engine's host is the single node, described
 * from `GET /info`.
 * @module
 */
import { DomainError } from './errors.ts';
import type { Facility } from './facility.ts';
import { compareServiceNames, formatNode } from './format/nodes.ts';
import { modeOf, swarmEngineError } from './mode.ts';

/** The Engine's `/info` and whether the facility is in swarm mode (config `mode`, else detected from that `/info`). */
async function swarmInfo(f: Facility): Promise<{ info: Record<string, any>; swarm: boolean }> {
  const info = await f.engine.info();
  return { info, swarm: modeOf(f, info) === 'swarm' };
}

/** The swarm's nodes (`GET /nodes`) in `docker node ls` order: hostnames in natural order, then IDs. */
async function listNodes(f: Facility): Promise<any[]> {
  let nodes: any[];
  try {
    nodes = await f.engine.listNodes();
  } catch (e) {
    swarmEngineError(e);
  }
  const host = (n: any): string => n.Description?.Hostname ?? '';
  return nodes.sort((a, b) => compareServiceNames(host(a), host(b)) || (a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0));
}

/** The solo host in the `docker node ls --format json` shape. */
export function soloNodeStatus(info: Record<string, any>): Record<string, unknown> {
  return {
    Availability: 'Active',
    EngineVersion: info.ServerVersion ?? '',
    Hostname: info.Name ?? '',
    ID: info.ID ?? '',
    ManagerStatus: '',
    Self: true,
    Status: 'Ready',
    TLSStatus: '',
  };
}

function nodeNotFound(hostname: string): DomainError {
  return new DomainError('node_not_found', `No node with hostname '${hostname}'`, { hostname });
}

/** Hostnames of all nodes (one in solo mode). */
export async function nodeNames(f: Facility): Promise<string[]> {
  const { info, swarm } = await swarmInfo(f);
  if (!swarm) return [info.Name];
  const nodes = await listNodes(f);
  return nodes.map((n) => n.Description?.Hostname as string);
}

/**
 * Node status objects (`docker node ls --format json`); with `hostname`, that node's object.
 * @throws DomainError 404 unknown hostname; 409 when two nodes share the hostname (names both IDs)
 */
export async function nodeStatus(f: Facility, hostname?: string): Promise<unknown> {
  const { info, swarm } = await swarmInfo(f);
  if (!swarm) {
    if (hostname !== undefined && hostname !== info.Name) throw nodeNotFound(hostname);
    return soloNodeStatus(info);
  }
  const nodes = await listNodes(f);
  const selfId = info.Swarm?.NodeID;
  const tls = info.Swarm?.Cluster?.TLSInfo;
  if (hostname === undefined) return nodes.map((n) => formatNode(n, selfId, tls));
  return formatNode(pickByHostname(nodes, hostname), selfId, tls);
}

/** The node's inspect JSON (`docker node inspect`), or the Engine's `/info` in solo mode. */
export async function nodeInfo(f: Facility, hostname: string): Promise<unknown> {
  const { info, swarm } = await swarmInfo(f);
  if (!swarm) {
    if (hostname !== info.Name) throw nodeNotFound(hostname);
    return info;
  }
  return pickByHostname(await listNodes(f), hostname);
}

function pickByHostname(nodes: any[], hostname: string): any {
  const hits = nodes.filter((n) => n.Description?.Hostname === hostname);
  if (hits.length === 0) throw nodeNotFound(hostname);
  if (hits.length > 1) {
    const list = hits.map((n) => `${n.ID} (${n.Status?.State ?? 'unknown'})`).join(', ');
    throw new DomainError('state_conflict', `Several nodes have hostname '${hostname}': ${list}; a node that left and rejoined the swarm keeps its old entry until it is removed (docker node rm ID)`, {
      hostname,
      ids: hits.map((n) => n.ID),
    });
  }
  return hits[0];
}
