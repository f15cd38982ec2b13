/** The facility file's loader: strict checks at start-up that name the setting. */
import { readFileSync } from 'node:fs';
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

describe('strict configuration (issue 12)', () => {
  it('refuses an unknown key, naming its path (a typo such as "polcy" no longer runs without limits)', () => {
    expect(() => parseConfig({ facilities: { demo: { engine, polcy: { memory: { max: '1g' } } } } }, 'test')).toThrow(/facilities\.demo\.polcy: unknown setting/);
    expect(() => parseConfig({ facilities: { demo: { engine, policy: { memory: { dfault: '1g' } } } } }, 'test')).toThrow(/facilities\.demo\.policy\.memory\.dfault: unknown setting/);
    expect(() => parseConfig({ facilitys: {}, facilities: { demo: { engine } } }, 'test')).toThrow(/facilitys: unknown setting/);
    expect(() => parseConfig({ facilities: { demo: { engine: { ...engine, tiemout: 5 } } } }, 'test')).toThrow(/facilities\.demo\.engine\.tiemout: unknown setting/);
  });

  it('refuses a default above its max for memory, cpus and pids', () => {
    expect(() => parseConfig({ facilities: { demo: { engine, policy: { memory: { default: '4g', max: '1g' } } } } }, 'test')).toThrow(/policy\.memory\.default: default .* must not be above max/);
    expect(() => parseConfig({ facilities: { demo: { engine, policy: { cpus: { default: 2, max: 1 } } } } }, 'test')).toThrow(/policy\.cpus\.default: default \(2\) must not be above max \(1\)/);
    expect(() => parseConfig({ facilities: { demo: { engine, policy: { pids: { default: 500, max: 100 } } } } }, 'test')).toThrow(/policy\.pids\.default/);
    const ok = parseConfig({ facilities: { demo: { engine, policy: { memory: { default: '1g', max: '1g' }, cpus: { default: 1, max: 2 } } } } }, 'test');
    expect(ok.facilities.demo.policy.memory).toEqual({ default: 1 << 30, max: 1 << 30 });
  });

  it('the fallback identity is never root: UID 0 or GID 0 refused', () => {
    expect(() => parseConfig({ facilities: { demo: { engine, policy: { identity: { fallback: '0:65534' } } } } }, 'test')).toThrow(/policy\.identity\.fallback: must not be UID 0 or GID 0/);
    expect(() => parseConfig({ facilities: { demo: { engine, policy: { identity: { fallback: '65534:0' } } } } }, 'test')).toThrow(/must not be UID 0 or GID 0/);
  });

  it('the example config parses and carries a safe policy: limits, restart, a fallback identity', () => {
    const raw = JSON.parse(readFileSync(new URL('../../config/facilities.example.json', import.meta.url), 'utf8'));
    const c = parseConfig(raw, 'config/facilities.example.json');
    for (const f of Object.values(c.facilities)) {
      const p = f.policy;
      expect(p.memory.max, f.id).toBeGreaterThan(0);
      expect(p.cpus.max, f.id).toBeGreaterThan(0);
      expect(p.pids.max, f.id).toBeGreaterThan(0);
      expect(p.restart, f.id).not.toBe('always');
      expect(p.identity.missing, f.id).toBe('fallback');
      expect(p.identity.fallback, f.id).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    }
  });
});
