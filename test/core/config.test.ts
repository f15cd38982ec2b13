/** The facility file's loader: strict checks at start-up that name the setting. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../core/config.ts';
import { RESERVED_FACILITY_IDS } from '../../core/schemas.ts';

const engine = { host: 'unix:///nowhere.sock' };

describe('facility IDs', () => {
  it('refuses every ID the service reserves for its own paths, in any case, naming it', () => {
    for (const id of [...RESERVED_FACILITY_IDS, 'UI', 'Metrics', 'OpenAPI.json'.toLowerCase()]) {
      if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(id)) {
        // not even a facility ID (a dot): refused by the ID rule
        expect(() => parseConfig({ facilities: { [id]: { engine } } }, 'test')).toThrow(/Invalid configuration in test/);
        continue;
      }
      expect(() => parseConfig({ facilities: { [id]: { engine } } }, 'test'), id).toThrow(/is reserved for the service's own paths/);
    }
  });

  it('accepts ordinary IDs, and concurrency defaults to 16 within 1..256', () => {
    const c = parseConfig({ facilities: { demo: { engine }, 'hpc-1': { engine, concurrency: 4 } } }, 'test');
    expect(c.facilities.demo.concurrency).toBe(16);
    expect(c.facilities['hpc-1'].concurrency).toBe(4);
    expect(() => parseConfig({ facilities: { demo: { engine, concurrency: 0 } } }, 'test')).toThrow(/facilities\.demo\.concurrency: must be at least 1/);
  });
});
