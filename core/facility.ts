/**
 * Facility lookup: facility ID -> its configuration and a cached Engine client.
 * @module
 */
import { DomainError } from './errors.ts';
import { Engine, type EngineEndpoint } from './engine.ts';
import { loadConfig, type FacilityConfig } from './config.ts';

/** A facility resolved for one request. */
export interface Facility {
  id: string;
  config: FacilityConfig;
  engine: Engine;
}

const engines = new Map<string, Engine>();

/**
 * Resolves a facility ID.
 * @throws DomainError 404 `unknown_facility` when the ID is not configured
 */
export function getFacility(id: string): Facility {
  const cfg = loadConfig();
  const config = Object.hasOwn(cfg.facilities, id) ? cfg.facilities[id] : undefined;
  if (!config) {
    throw new DomainError('unknown_facility', `Unknown facility '${id.length > 64 ? id.slice(0, 64) + '…' : id}'`);
  }
  let engine = engines.get(id);
  if (!engine) {
    engine = new Engine(config.engine);
    engines.set(id, engine);
  }
  return { id, config, engine };
}

const nodeEngines = new Map<string, Engine>();

/**
 * The Engine client of one swarm node (facility config `nodes`), cached per facility, hostname
 * and endpoint; `undefined` when the node has no entry.
 */
export function nodeEngine(f: Facility, hostname: string): Engine | undefined {
  const ep: EngineEndpoint | undefined = Object.hasOwn(f.config.nodes, hostname) ? f.config.nodes[hostname] : undefined;
  if (!ep) return undefined;
  const key = `${f.id}\0${hostname}\0${JSON.stringify(ep)}`;
  let e = nodeEngines.get(key);
  if (!e) {
    e = new Engine(ep);
    nodeEngines.set(key, e);
  }
  return e;
}

/** Forgets cached Engine clients, the facilities' and their nodes' (after a config change). */
export function resetFacilities(): void {
  engines.clear();
  nodeEngines.clear();
}
