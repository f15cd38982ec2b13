import { afterAll, describe, expect, it } from 'vitest';
import { createClient } from '@libsql/client';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBusy, migrate, withBusyRetry, type Migration } from '../../core/store.ts';

const dir = mkdtempSync(join(tmpdir(), 'src-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MIGRATIONS: Migration[] = [
  { version: 1, name: 'create', sql: ['CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)'] },
  { version: 2, name: 'index', sql: ['CREATE INDEX t_v ON t (v)'] },
];

async function open(url: string) {
  const db = createClient({ url });
  await db.execute('PRAGMA journal_mode=WAL');
  await db.execute('PRAGMA busy_timeout=0');
  await db.execute('CREATE TABLE IF NOT EXISTS schema_migrations (domain TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (domain, version))');
  return db;
}

describe('migrate', () => {
  it('applies each version once, even from two clients at the same time', async () => {
    const url = `file:${join(dir, 'm.db')}`;
    const [a, b] = await Promise.all([open(url), open(url)]);
    await Promise.all([migrate(a, 'test', MIGRATIONS), migrate(b, 'test', MIGRATIONS)]);
    const rows = await a.execute("SELECT version FROM schema_migrations WHERE domain = 'test' ORDER BY version");
    expect(rows.rows.map((r) => Number(r.version))).toEqual([1, 2]);
    await migrate(a, 'test', [...MIGRATIONS, { version: 3, name: 'col', sql: ['ALTER TABLE t ADD COLUMN w TEXT'] }]);
    const cols = await b.execute('PRAGMA table_info(t)');
    expect(cols.rows.map((r) => r.name)).toEqual(['id', 'v', 'w']);
    a.close();
    b.close();
  });
});

describe('withBusyRetry', () => {
  it('retries while the database is locked, then succeeds', async () => {
    const url = `file:${join(dir, 'busy.db')}`;
    const a = await open(url);
    const b = await open(url);
    await a.execute('CREATE TABLE x (v INTEGER)');
    const tx = await a.transaction('write');
    await tx.execute('INSERT INTO x VALUES (1)');
    let attempts = 0;
    setTimeout(() => tx.commit().then(() => tx.close()), 150);
    await withBusyRetry(async () => {
      attempts++;
      await b.execute('INSERT INTO x VALUES (2)');
    });
    expect(attempts).toBeGreaterThan(1);
    expect((await b.execute('SELECT count(*) AS n FROM x')).rows[0].n).toBe(2);
    a.close();
    b.close();
  });

  it('does not retry other errors', async () => {
    let attempts = 0;
    await expect(
      withBusyRetry(async () => {
        attempts++;
        throw new Error('syntax error');
      }),
    ).rejects.toThrow('syntax error');
    expect(attempts).toBe(1);
    expect(isBusy(new Error('database is locked'))).toBe(true);
  });
});
