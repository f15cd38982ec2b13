/**
 * Operations in-process, with no Engine needed: /healthz, /readyz (an Engine down does not fail
 * readiness; a database that cannot be written does), /metrics (admin only; the series move as
 * requests are made; no per-user label), and the structured request log (one JSON line per
 * request with its fields; a token and a registry password sent through never appear).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, ADMIN_TOKEN } from '../helpers.ts';
import { capturedLines, log, setupLogging } from '../../core/log.ts';
import { loadConfig, setConfig } from '../../core/config.ts';
import { closeDb } from '../../core/store.ts';
import { mintToken } from '../../core/auth.ts';
import { registryAuthHeader } from '../../core/engine.ts';

function sample(text: string, name: string, labels: Record<string, string>): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.lastIndexOf('}'));
    const got = Object.fromEntries([...body.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

describe('health', () => {
  it('/healthz answers while the process lives', async () => {
    const r = await call('GET', '/healthz', { token: null });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'ok' });
  });

  it("/readyz: ready while the database takes writes, each facility's Engine in the body", async () => {
    const r = await call('GET', '/readyz', { token: null });
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('ready');
    expect(r.body.database).toEqual({ writable: true });
    expect(Object.keys(r.body.facilities).sort()).toEqual(Object.keys(loadConfig().facilities).sort());
    for (const f of Object.values(r.body.facilities) as { engine: string }[]) expect(['up', 'down']).toContain(f.engine);
  });

  it('/readyz: 503 when the database cannot be written; ready again once it can', async () => {
    const config = loadConfig();
    await closeDb();
    setConfig({ ...config, dbUrl: 'http://127.0.0.1:9' }); // nothing listens there
    try {
      const r = await call('GET', '/readyz', { token: null });
      expect(r.status).toBe(503);
      expect(r.body.status).toBe('not_ready');
      expect(r.body.database.writable).toBe(false);
    } finally {
      await closeDb();
      setConfig(config);
    }
    expect((await call('GET', '/readyz', { token: null })).status).toBe(200);
  });
});

describe('/metrics', () => {
  it('needs an admin token', async () => {
    expect((await call('GET', '/metrics', { token: null })).status).toBe(401);
    const user = await mintToken({ role: 'user', name: 'metrics-user', user: 'metricsuser' });
    expect((await call('GET', '/metrics', { token: user.token })).status).toBe(403);
  });

  it('moves as requests are made; shared gauges; no per-user label', async () => {
    const before = (await call('GET', '/metrics')).body as string;
    for (let i = 0; i < 3; i++) expect((await call('GET', '/demo/get-audit-log?limit=1')).status).toBe(200);
    expect((await call('GET', '/demo/get-audit-log?limit=x')).status).toBe(400);
    const r = await call('GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    const after = r.body as string;
    const ok = { route: 'get-audit-log', method: 'GET', status: '200' };
    expect(sample(after, 'src_http_requests_total', ok) - sample(before, 'src_http_requests_total', ok)).toBe(3);
    const bad = { route: 'get-audit-log', method: 'GET', status: '400' };
    expect(sample(after, 'src_http_requests_total', bad) - sample(before, 'src_http_requests_total', bad)).toBe(1);
    expect(sample(after, 'src_http_request_duration_seconds_count', { route: 'get-audit-log' })).toBeGreaterThanOrEqual(4);
    expect(after).toMatch(/^src_facility_engine_up\{facility="demo"\} [01]$/m);
    expect(after).toMatch(/instance="/);
    expect(after).not.toMatch(/\b(user|app|name)="/);
  });
});

describe('structured request log', () => {
  const password = 'src-test-password';
  beforeAll(() => {
    process.env.SRC_LOG_LEVEL = 'info';
    setupLogging({ capture: true, reset: true });
  });
  afterAll(() => {
    process.env.SRC_LOG_LEVEL = 'warning';
    setupLogging({ reset: true });
  });

  it('one JSON line per request with its fields; no token or password in any line', async () => {
    const token = (await mintToken({ role: 'user', name: 'log-user', user: 'loguser' })).token;
    const n = capturedLines().length;
    await call('GET', `/demo/get-app-names?user=loguser&password=${password}&token=${token}`, { token });
    await call('GET', `/demo/get-audit-log?password=${password}`, { headers: { authorization: `Bearer ${token}`, 'x-registry-auth': registryAuthHeader({ username: 'u', password }) } });
    await call('POST', `/demo/request-image?image=127.0.0.1:5002/team/app:1&password=${password}`, { token: ADMIN_TOKEN });
    // a message that carries secrets (an Engine or registry error quoting them) is redacted too
    log('images').error('pull failed: {error}', {
      error: new Error(`login to 127.0.0.1:5002 failed: password=${password} Authorization: Bearer ${token}`),
      password,
      auth: registryAuthHeader({ password }),
    });
    await new Promise((r) => setImmediate(r)); // request lines are written just after the answer
    const lines = capturedLines().slice(n);
    const records = lines.map((l) => JSON.parse(l));
    const requests = records.filter((r) => r.logger === 'src.http');
    expect(requests.map((r) => [r.properties.route, r.properties.status])).toEqual([
      ['get-app-names', expect.any(Number)],
      ['get-audit-log', 403],
      ['request-image', 202],
    ]);
    const first = requests[0].properties;
    expect(first).toMatchObject({ method: 'GET', facility: 'demo', role: 'user', user: 'loguser', tokenName: 'log-user' });
    expect(first.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof first.durationMs).toBe('number');
    expect(typeof first.engineMs).toBe('number');
    expect(requests[1].properties.code).toBe('forbidden');
    for (const l of lines) {
      expect(l.endsWith('\n')).toBe(true);
      expect(l).not.toContain(token);
      expect(l).not.toContain(token.slice(-43));
      expect(l).not.toContain(password);
      expect(l).not.toContain(ADMIN_TOKEN.slice(-43));
    }
    expect(lines.join('')).toContain('[redacted]');
  });
});
