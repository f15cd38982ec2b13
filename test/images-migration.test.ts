/**
 * The images domain's migration 2 on a version-1 database: one request-log row per call becomes
 * one requester row (first, last, count, the reference as last written), anonymous calls under
 * the '' requester; records only anonymous callers asked for are flagged; the log is dropped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type Client } from '@libsql/client';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../core/images/store.ts';
import { migrate } from '../core/store.ts';

const dir = mkdtempSync(join(tmpdir(), 'src-images-migration-'));
let db: Client | undefined;
afterAll(() => {
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('images migration 2: requesters with counts', () => {
  it('aggregates the version-1 log per requester and flags anonymous-only records', async () => {
    db = createClient({ url: `file:${join(dir, 'src.db')}` });
    await db.execute('CREATE TABLE schema_migrations (domain TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (domain, version))');
    await migrate(
      db,
      'images',
      MIGRATIONS.filter((m) => m.version === 1),
    );
    const rec = (ref: string, state: string, by: string | null, n: number) => ({
      sql: `INSERT INTO image_requests (facility, reference, familiar, state, requested_by, requested_at, request_count, created_at, updated_at) VALUES ('f', ?, ?, ?, ?, '2026-01-01T00:00:00.000Z', ?, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')`,
      args: [ref, ref, state, by, n],
    });
    const log = (ref: string, given: string, by: string, at: string) => ({
      sql: "INSERT INTO image_request_log (facility, reference, given, requested_by, at) VALUES ('f', ?, ?, ?, ?)",
      args: [ref, given, by, at],
    });
    await db.batch(
      [
        rec('docker.io/library/a:1', 'pending', 'anonymous', 4),
        log('docker.io/library/a:1', 'a:1', 'anonymous', '2026-01-01T00:00:01.000Z'),
        log('docker.io/library/a:1', 'docker.io/library/a:1', 'anonymous', '2026-01-01T00:00:03.000Z'),
        log('docker.io/library/a:1', 'a:1', 'alice', '2026-01-01T00:00:02.000Z'),
        log('docker.io/library/a:1', 'library/a:1', 'anonymous', '2026-01-01T00:00:04.000Z'),
        rec('docker.io/library/b:1', 'pending', 'anonymous', 2),
        log('docker.io/library/b:1', 'b:1', 'anonymous', '2026-01-01T00:00:01.000Z'),
        log('docker.io/library/b:1', 'b:1', 'anonymous', '2026-01-01T00:00:02.000Z'),
        rec('docker.io/library/c:1', 'approved', null, 0), // approved by an admin, never requested
      ],
      'write',
    );
    await migrate(db, 'images', MIGRATIONS);
    const versions = await db.execute("SELECT version FROM schema_migrations WHERE domain = 'images' ORDER BY version");
    expect(versions.rows.map((r) => Number(r.version))).toEqual([1, 2]);
    const rows = await db.execute('SELECT reference, requester, given, first_at, last_at, count FROM image_request_requesters ORDER BY reference, requester');
    expect(rows.rows.map((r) => ({ ...r }))).toEqual([
      { reference: 'docker.io/library/a:1', requester: '', given: 'library/a:1', first_at: '2026-01-01T00:00:01.000Z', last_at: '2026-01-01T00:00:04.000Z', count: 3 },
      { reference: 'docker.io/library/a:1', requester: 'alice', given: 'a:1', first_at: '2026-01-01T00:00:02.000Z', last_at: '2026-01-01T00:00:02.000Z', count: 1 },
      { reference: 'docker.io/library/b:1', requester: '', given: 'b:1', first_at: '2026-01-01T00:00:01.000Z', last_at: '2026-01-01T00:00:02.000Z', count: 2 },
    ]);
    const flags = await db.execute('SELECT reference, anonymous_only FROM image_requests ORDER BY reference');
    expect(flags.rows.map((r) => [r.reference, Number(r.anonymous_only)])).toEqual([
      ['docker.io/library/a:1', 0],
      ['docker.io/library/b:1', 1],
      ['docker.io/library/c:1', 0],
    ]);
    const log2 = await db.execute("SELECT name FROM sqlite_master WHERE name = 'image_request_log'");
    expect(log2.rows).toEqual([]);
  });
});
