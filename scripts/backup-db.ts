/**
 * Backup and restore of the database (approvals, tokens, audit log, uptime history, image
 * requests): the embedded `file:` database and a libSQL server (sqld) alike.
 *
 *   npm run backup -- --out FILE        a consistent snapshot of SRC_DB_URL (or --db URL) into FILE
 *   npm run restore -- FILE             FILE into SRC_DB_URL (or --db URL), which must be empty
 *
 * - Backup of a `file:` database: SQLite's `VACUUM INTO` on the live database: one read
 *   transaction, so a consistent snapshot while runners keep writing (WAL mode).
 * - Backup of a libSQL server: every table (schema, then rows in primary-key order, pages of
 *   {@link PAGE} rows) copied inside one read transaction (a snapshot) into a new SQLite file.
 * - The backup is always one plain SQLite file (mode 0600: it holds token hashes), checked with
 *   `PRAGMA integrity_check`.
 * - Restore copies schema and rows into an empty database (a new `file:` path or a fresh sqld)
 *   in write batches; indexes are created after the rows. A target with tables is refused.
 *
 * @module
 */
import { createClient, type Client, type InArgs, type Transaction } from '@libsql/client';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../core/config.ts';

/** Rows per read page and per write batch. */
const PAGE = 2000;

type Reader = Pick<Client | Transaction, 'execute'>;

/** The objects worth copying: tables, then indexes, triggers and views (their `CREATE` text). */
async function schemaOf(db: Reader): Promise<{ type: string; name: string; sql: string }[]> {
  const r = await db.execute(
    "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'libsql_%' AND name NOT LIKE '_litestream%' ORDER BY CASE type WHEN 'table' THEN 0 ELSE 1 END, rowid",
  );
  return r.rows.map((x) => ({ type: String(x.type), name: String(x.name), sql: String(x.sql) }));
}

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Copies every table's rows of `from` (a snapshot) into `to`, which already has the tables. */
async function copyRows(from: Reader, to: Client, table: string): Promise<number> {
  const info = await from.execute({ sql: 'SELECT name, pk FROM pragma_table_info(?) ORDER BY cid', args: [table] });
  const cols = info.rows.map((r) => String(r.name));
  const pk = info.rows
    .filter((r) => Number(r.pk) > 0)
    .sort((a, b) => Number(a.pk) - Number(b.pk))
    .map((r) => String(r.name));
  const withoutRowid = /WITHOUT\s+ROWID/i.test(String((await from.execute({ sql: 'SELECT sql FROM sqlite_master WHERE name = ?', args: [table] })).rows[0]?.sql ?? ''));
  // keyset paging: the primary key (row values), or the rowid
  const keys = withoutRowid ? pk : ['rowid'];
  const select = `SELECT ${keys.map((k) => (k === 'rowid' ? 'rowid AS __rowid' : q(k))).join(', ')}, ${cols.map(q).join(', ')} FROM ${q(table)}`;
  const order = ` ORDER BY ${keys.map((k) => (k === 'rowid' ? 'rowid' : q(k))).join(', ')} LIMIT ${PAGE}`;
  const keyExpr = keys.length === 1 ? (keys[0] === 'rowid' ? 'rowid' : q(keys[0])) : `(${keys.map(q).join(', ')})`;
  const insert = `INSERT INTO ${q(table)} (${cols.map(q).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`;
  let last: InArgs | undefined;
  let n = 0;
  for (;;) {
    const page = last
      ? await from.execute({ sql: `${select} WHERE ${keyExpr} > ${keys.length === 1 ? '?' : `(${keys.map(() => '?').join(', ')})`}${order}`, args: last })
      : await from.execute(select + order);
    if (page.rows.length === 0) return n;
    await to.batch(
      page.rows.map((r) => ({ sql: insert, args: cols.map((c) => r[c] ?? null) as InArgs })),
      'write',
    );
    n += page.rows.length;
    const end = page.rows[page.rows.length - 1];
    last = keys.map((k) => (k === 'rowid' ? end.__rowid : end[k])) as InArgs;
  }
}

/** Copies schema and rows of `from` into the empty `to`. @returns tables and rows copied */
async function copyDatabase(from: Reader, to: Client): Promise<{ tables: number; rows: number }> {
  const existing = await schemaOf(to);
  if (existing.length > 0) throw new Error(`the target database is not empty (${existing.length} objects, e.g. ${existing[0].name}); restore into a fresh database`);
  const schema = await schemaOf(from);
  const tables = schema.filter((s) => s.type === 'table');
  for (const t of tables) await to.execute(t.sql);
  let rows = 0;
  for (const t of tables) rows += await copyRows(from, to, t.name);
  // AUTOINCREMENT counters
  const seq = await from.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'");
  if (seq.rows.length > 0) {
    const s = await from.execute('SELECT name, seq FROM sqlite_sequence');
    if (s.rows.length > 0) {
      await to.batch(['DELETE FROM sqlite_sequence', ...s.rows.map((r) => ({ sql: 'INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)', args: [r.name, r.seq] as InArgs }))], 'write');
    }
  }
  for (const o of schema.filter((s) => s.type !== 'table')) await to.execute(o.sql);
  return { tables: tables.length, rows };
}

/** `PRAGMA integrity_check` of a SQLite file. @throws Error when it is not `ok` */
async function checkFile(file: string): Promise<void> {
  const db = createClient({ url: `file:${file}` });
  try {
    const r = await db.execute('PRAGMA integrity_check');
    const verdict = String(r.rows[0]?.[0] ?? '');
    if (verdict !== 'ok') throw new Error(`${file}: integrity check failed: ${verdict}`);
  } finally {
    db.close();
  }
}

/**
 * Writes a consistent snapshot of the database at `url` into the new SQLite file `out`.
 * @throws Error when `out` exists, the database cannot be read, or the copy fails its check
 */
export async function backupDatabase(url: string, out: string, authToken?: string): Promise<{ tables: number; rows: number | undefined }> {
  const file = resolve(out);
  if (existsSync(file)) throw new Error(`${out} exists; a backup goes into a new file`);
  mkdirSync(dirname(file), { recursive: true });
  let result: { tables: number; rows: number | undefined };
  if (url.startsWith('file:')) {
    const db = createClient({ url, timeout: 5000 });
    try {
      await db.execute({ sql: 'VACUUM INTO ?', args: [file] });
      result = { tables: (await schemaOf(db)).filter((s) => s.type === 'table').length, rows: undefined };
    } finally {
      db.close();
    }
  } else {
    const src = createClient({ url, authToken });
    const dst = createClient({ url: `file:${file}` });
    try {
      const tx = await src.transaction('read');
      try {
        result = await copyDatabase(tx, dst);
      } finally {
        tx.close();
      }
    } finally {
      src.close();
      dst.close();
    }
  }
  chmodSync(file, 0o600); // token hashes, audit: owner only
  await checkFile(file);
  return result;
}

/**
 * Copies the backup `file` into the empty database at `url` (a new `file:` path or a fresh sqld).
 * @throws Error when the backup fails its check or the target is not empty
 */
export async function restoreDatabase(file: string, url: string, authToken?: string): Promise<{ tables: number; rows: number }> {
  if (!existsSync(file)) throw new Error(`${file}: no such backup`);
  await checkFile(file);
  if (url.startsWith('file:')) mkdirSync(dirname(resolve(url.slice(5))), { recursive: true });
  const src = createClient({ url: `file:${resolve(file)}` });
  const dst = createClient({ url, authToken });
  try {
    if (url.startsWith('file:')) await dst.execute('PRAGMA journal_mode=WAL');
    return await copyDatabase(src, dst);
  } finally {
    src.close();
    dst.close();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [cmd, ...rest] = process.argv.slice(2);
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { out: { type: 'string' }, db: { type: 'string' } } });
  const url = values.db ?? loadConfig().dbUrl;
  const token = process.env.SRC_DB_AUTH_TOKEN;
  try {
    if (cmd === 'backup') {
      if (!values.out) throw new Error('usage: npm run backup -- --out FILE [--db URL]');
      const r = await backupDatabase(url, values.out, token);
      console.log(`backup of ${url} written to ${values.out} (${r.tables} tables${r.rows === undefined ? '' : `, ${r.rows} rows`}; integrity ok)`);
    } else if (cmd === 'restore') {
      if (positionals.length !== 1) throw new Error('usage: npm run restore -- FILE [--db URL]');
      const r = await restoreDatabase(positionals[0], url, token);
      console.log(`${positionals[0]} restored into ${url} (${r.tables} tables, ${r.rows} rows)`);
    } else {
      throw new Error('usage: tsx scripts/backup-db.ts backup --out FILE | restore FILE  [--db URL]');
    }
  } catch (e) {
    console.error(`${cmd ?? 'backup-db'}: ${(e as Error).message}`);
    process.exit(1);
  }
}
