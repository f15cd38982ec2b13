/**
 * Nodes. In swarm mode (the Engine is an active swarm manager) they are the swarm's nodes
 * (`GET /nodes`), keyed by ID; in solo mode the Engine's host is the single node, described
 * from `GET /info`.
 * @module
 */
import { ApiError } from './errors.ts';
import type { Facility } from './facility.ts';
import { formatNode } from './format/nodes.ts';

async function swarmInfo(f: Facility): Promise<{ info: Record<string, any>; swarm: boolean }> {
  const info = await f.engine.info();
  const swarm = info.Swarm?.LocalNodeState === 'active' && info.Swarm?.ControlAvailable === true;
  return { info, swarm };
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

function nodeNotFound(hostname: string): ApiError {
  return new ApiError(404, 'node_not_found', `No node with hostname '${hostname}'`, { hostname });
}

/** Hostnames of all nodes (one in solo mode). */
export async function nodeNames(f: Facility): Promise<string[]> {
  const { info, swarm } = await swarmInfo(f);
  if (!swarm) return [info.Name];
  const nodes = await f.engine.listNodes();
  return nodes.map((n) => n.Description?.Hostname as string).sort();
}

/**
 * Node status objects (`docker node ls --format json`); with `hostname`, that node's object.
 * @throws ApiError 404 unknown hostname; 409 when two nodes share the hostname (names both IDs)
 */
export async function nodeStatus(f: Facility, hostname?: string): Promise<unknown> {
  const { info, swarm } = await swarmInfo(f);
  if (!swarm) {
    if (hostname !== undefined && hostname !== info.Name) throw nodeNotFound(hostname);
    return soloNodeStatus(info);
  }
  const nodes = await f.engine.listNodes();
  const selfId = info.Swarm?.NodeID;
  if (hostname === undefined) return nodes.map((n) => formatNode(n, selfId));
  return formatNode(pickByHostname(nodes, hostname), selfId);
}

/** The node's inspect JSON (`docker node inspect`), or the Engine's `/info` in solo mode. */
export async function nodeInfo(f: Facility, hostname: string): Promise<unknown> {
  const { info, swarm } = await swarmInfo(f);
  if (!swarm) {
    if (hostname !== info.Name) throw nodeNotFound(hostname);
    return info;
  }
  return pickByHostname(await f.engine.listNodes(), hostname);
}

function pickByHostname(nodes: any[], hostname: string): any {
  const hits = nodes.filter((n) => n.Description?.Hostname === hostname);
  if (hits.length === 0) throw nodeNotFound(hostname);
  if (hits.length > 1) {
    throw new ApiError(409, 'state_conflict', `Several nodes have hostname '${hostname}': ${hits.map((n) => n.ID).join(', ')}`, {
      hostname,
      ids: hits.map((n) => n.ID),
    });
  }
  return hits[0];
}
