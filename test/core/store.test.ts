import { afterAll, describe, expect, it, vi } from 'vitest';
import { createClient } from '@libsql/client';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { databaseFetch } from '../../core/db-fetch.ts';
import { isBusy, isStoreUnavailable, migrate, withBusyRetry, type Migration } from '../../core/store.ts';
import { freePort, sqldBinary } from '../../scripts/local-deploy.ts';

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

describe('databaseFetch (the libSQL client on a sqld)', () => {
  let proc: ChildProcess | undefined;
  afterAll(() => proc?.kill('SIGKILL'));

  it('speaks node:http to sqld and asks for uncompressed answers, which it otherwise gzips; the answers are the same', async () => {
    const [http, grpc] = [await freePort(), await freePort()];
    proc = spawn(sqldBinary(), ['--db-path', join(dir, 'sqld'), '--http-listen-addr', `127.0.0.1:${http}`, '--grpc-listen-addr', `127.0.0.1:${grpc}`, '--no-welcome'], { stdio: 'ignore' });
    const url = `http://127.0.0.1:${http}`;
    for (
      let i = 0;
      i < 100 &&
      !(await fetch(`${url}/health`).then(
        (r) => r.ok,
        () => false,
      ));
      i++
    )
      await new Promise((r) => setTimeout(r, 100));
    // each client's answers' Content-Encoding, as sqld sent it
    const client = (f: typeof fetch) => {
      const encodings: (string | null)[] = [];
      const db = createClient({
        url,
        fetch: async (input: Request | string | URL, init?: RequestInit) => {
          const res = await f(input as Request, init);
          encodings.push(res.headers.get('content-encoding'));
          return res;
        },
      });
      return { db, encodings };
    };
    const plain = client(fetch);
    const ours = client(databaseFetch);
    await plain.db.execute('CREATE TABLE u (id INTEGER PRIMARY KEY, v TEXT)');
    await plain.db.execute({ sql: 'INSERT INTO u (v) VALUES (?), (?)', args: ['a', 'b'] });
    const a = await plain.db.execute('SELECT v FROM u ORDER BY id');
    const globalFetch = vi.spyOn(globalThis, 'fetch');
    const b = await ours.db.execute('SELECT v FROM u ORDER BY id');
    expect(globalFetch).not.toHaveBeenCalled(); // node:http, not undici
    globalFetch.mockRestore();
    expect(b.rows.map((r) => r.v)).toEqual(['a', 'b']);
    expect(b.rows.map((r) => r.v)).toEqual(a.rows.map((r) => r.v));
    expect(plain.encodings).toContain('gzip'); // what the default fetch makes sqld do
    expect(ours.encodings.length).toBeGreaterThan(0);
    expect(ours.encodings.every((e) => e === null)).toBe(true);
    // a batch, an error answer and a write go through it as through the default fetch
    const [rows, count] = await ours.db.batch(['SELECT v FROM u ORDER BY id', 'SELECT count(*) AS n FROM u'], 'read');
    expect(rows.rows.map((r) => r.v)).toEqual(['a', 'b']);
    expect(count.rows[0].n).toBe(2);
    await expect(ours.db.execute('SELECT nope FROM u')).rejects.toThrow(/no such column/);
    await ours.db.execute({ sql: 'INSERT INTO u (v) VALUES (?)', args: ['ü'.repeat(5000)] });
    expect((await plain.db.execute('SELECT v FROM u WHERE id = 3')).rows[0].v).toBe('ü'.repeat(5000));
    plain.db.close();
    ours.db.close();
  });

  it('rejects with the transport error when no server listens, which the store reads as unavailable', async () => {
    const db = createClient({ url: `http://127.0.0.1:${await freePort()}`, fetch: databaseFetch });
    const err = await db.execute('SELECT 1').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as { code?: string }).code).toBe('ECONNREFUSED');
    expect(isStoreUnavailable(err)).toBe(true);
    db.close();
  });
});
