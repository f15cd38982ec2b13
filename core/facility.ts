/**
 * Facility lookup: facility ID -> its configuration and a cached Engine client.
 * @module
 */
import { ApiError } from './errors.ts';
import { Engine } from './engine.ts';
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
 * @throws ApiError 404 `unknown_facility` when the ID is not configured
 */
export function getFacility(id: string): Facility {
  const cfg = loadConfig();
  const config = Object.hasOwn(cfg.facilities, id) ? cfg.facilities[id] : undefined;
  if (!config) {
    throw new ApiError(404, 'unknown_facility', `Unknown facility '${id.length > 64 ? id.slice(0, 64) + '…' : id}'`);
  }
  let engine = engines.get(id);
  if (!engine) {
    engine = new Engine(config.engine);
    engines.set(id, engine);
  }
  return { id, config, engine };
}

/** Forgets cached Engine clients (after a config change). */
export function resetFacilities(): void {
  engines.clear();
}
