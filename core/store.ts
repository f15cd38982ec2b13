/**
 * State in libSQL: the embedded `file:` database by default (`./data/src.db`), or a libSQL
 * server by URL (`SRC_DB_URL=http://127.0.0.1:8081`). Each domain (images, uptime, auth,
 * audit) owns its tables and applies its own versioned migrations with {@link migrate};
 * `schema_migrations` records what ran.
 *
 * @example
 * const db = await getDb();
 * await migrate(db, 'uptime', [{ version: 1, name: 'create', sql: ['CREATE TABLE …'] }]);
 *
 * @module
 */
import { createClient, LibsqlError, type Client } from '@libsql/client';
import pRetry, { AbortError } from 'p-retry';
import { loadConfig } from './config.ts';
import { databaseFetch } from './db-fetch.ts';
import { ensureDir, WriteGate } from './runtime.ts';

/** One schema step of a domain. Versions start at 1 and only ever grow. */
export interface Migration {
  version: number;
  name: string;
  sql: string[];
}

let client: Promise<Client> | undefined;

/** How long a `file:` connection waits for another process's write lock before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (once per process) the configured database. WAL and a busy timeout for `file:` URLs,
 * on every connection of the client's pool (`timeout`; a PRAGMA would reach only one).
 *
 * Why the busy timeout and {@link withBusyRetry}'s write gate matter: the embedded driver
 * (libsql 0.5) leaves a statement that failed with SQLITE_BUSY in progress, so every later
 * write on that connection stays uncommitted, holds the write lock and is lost
 * (tursodatabase/libsql-client-ts#352). So a write must wait for a lock rather than fail:
 * another process's lock is waited out by SQLite (the busy timeout), and this process's own
 * writers never contend, because they take turns through the gate (the driver is synchronous:
 * a connection waiting on a lock held by another connection of this process would block the
 * event loop until the timeout, then fail).
 */
export function getDb(): Promise<Client> {
  client ??= (async () => {
    const { dbUrl, dataDir } = loadConfig();
    // the data directory holds the database and the admin token file: owner only
    if (dbUrl.startsWith('file:')) ensureDir(dbUrl.slice(5).replace(/\/[^/]*$/, '') || dataDir, 0o700);
    const db = createClient({ url: dbUrl, authToken: globalThis.process?.env?.SRC_DB_AUTH_TOKEN, timeout: BUSY_TIMEOUT_MS, fetch: databaseFetch });
    if (dbUrl.startsWith('file:')) await db.execute('PRAGMA journal_mode=WAL');
    await ensureMigrationsTable(db);
    return db;
  })().catch((e) => {
    client = undefined; // a server that was down at the first call is tried again on the next
    throw e;
  });
  return client;
}

/**
 * Checks that the configured database answers (`SELECT 1`), for a host's start-up: a function
 * bundle has no embedded database, so without `SRC_DB_URL` (or with one that cannot be reached)
 * it must not start and answer 500 to every call.
 * @param bundle whether this runs inside a function bundle (needs a libSQL server URL)
 * @throws Error with one clear line naming `SRC_DB_URL` and what is wrong
 */
export async function checkDatabase(bundle: boolean): Promise<void> {
  const url = globalThis.process?.env?.SRC_DB_URL;
  if (bundle && !url) throw new Error('SRC_DB_URL is not set: a route bundle needs a libSQL server (e.g. SRC_DB_URL=http://127.0.0.1:8081)');
  if (bundle && url && !/^(https?|wss?|libsql):\/\//.test(url)) throw new Error(`SRC_DB_URL=${url}: a route bundle needs a libSQL server URL (http://, https://, ws://, wss:// or libsql://)`);
  try {
    const db = await getDb();
    await db.execute('SELECT 1');
  } catch (e) {
    client = undefined;
    const why = String((e as Error)?.message ?? e).split('\n')[0];
    throw new Error(`The database ${loadConfig().dbUrl} cannot be used (${why}); check SRC_DB_URL and that the libSQL server runs`, { cause: e });
  }
}

/** Creates the `schema_migrations` table {@link migrate} records in, if missing. */
export async function ensureMigrationsTable(db: Client): Promise<void> {
  await db.execute('CREATE TABLE IF NOT EXISTS schema_migrations (domain TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (domain, version))');
}

/** Closes the process database (tests, shutdown). */
export async function closeDb(): Promise<void> {
  const c = client;
  client = undefined;
  if (c) (await c).close();
}

/** Whether an error is SQLite/libSQL "database is busy/locked" (worth retrying). */
export function isBusy(e: unknown): boolean {
  const code = e instanceof LibsqlError ? e.code : (e as { code?: string })?.code;
  const msg = String((e as Error)?.message ?? '');
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || /database is (locked|busy)/i.test(msg);
}

/**
 * Whether an error means the database cannot serve now: busy past the retries, or a libSQL
 * server that cannot be reached (HRANA transport errors, refused, reset or silent connections:
 * core/db-fetch.ts's transport errors on Node, undici's `fetch failed` on Deno).
 */
export function isStoreUnavailable(e: unknown): boolean {
  if (isBusy(e)) return true;
  const code = (e as { code?: string })?.code ?? '';
  const msg = String((e as Error)?.message ?? '') + String((e as { cause?: Error })?.cause?.message ?? '');
  return /^(HRANA_WEBSOCKET_ERROR|SERVER_ERROR|HRANA_CLOSED_ERR|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE)$/.test(code) || /ECONNREFUSED|fetch failed|ECONNRESET|socket hang up/.test(msg);
}

/** This process's database writers take turns through here (see {@link getDb}). */
const writeGate = new WriteGate();

/**
 * Runs a database write `fn` (statements, a batch, or a whole interactive transaction) in its
 * turn among this process's writers, retrying with exponential back-off (p-retry) while the
 * database is busy; any other error is thrown at once. Every write goes through here; `fn`
 * must not call withBusyRetry itself (it would wait for its own turn).
 */
export function withBusyRetry<T>(fn: () => Promise<T>, retries = 6): Promise<T> {
  return pRetry(
    async () => {
      try {
        return await writeGate.run(fn);
      } catch (e) {
        if (isBusy(e)) throw e;
        throw new AbortError(e as Error);
      }
    },
    { retries, minTimeout: 25, factor: 2, randomize: true },
  ).catch((e) => {
    throw e instanceof AbortError ? ((e as any).originalError ?? e) : e;
  });
}

/**
 * Applies the domain's migrations that have not run yet, each in one atomic batch with its
 * `schema_migrations` row, so concurrent processes apply each step exactly once.
 */
export async function migrate(db: Client, domain: string, migrations: Migration[]): Promise<void> {
  const done = await db.execute({ sql: 'SELECT version FROM schema_migrations WHERE domain = ?', args: [domain] });
  const applied = new Set(done.rows.map((r) => Number(r.version)));
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applied.has(m.version)) continue;
    try {
      // One atomic batch: the schema_migrations row first, so a concurrent process that
      // applied this step already makes the whole batch fail on the primary key.
      await withBusyRetry(() =>
        db.batch([{ sql: 'INSERT INTO schema_migrations (domain, version, name, applied_at) VALUES (?, ?, ?, ?)', args: [domain, m.version, m.name, new Date().toISOString()] }, ...m.sql], 'write'),
      );
    } catch (e) {
      if (!/UNIQUE constraint failed: schema_migrations|SQLITE_CONSTRAINT/.test(String((e as Error).message) + String((e as { code?: string }).code))) throw e;
    }
  }
}

/**
 * A domain's database handle, migrated on first use.
 * @example const uptimeDb = domainDb('uptime', MIGRATIONS); const db = await uptimeDb();
 */
export function domainDb(domain: string, migrations: Migration[]): () => Promise<Client> {
  let ready: Promise<Client> | undefined;
  return () => {
    ready ??= (async () => {
      const db = await getDb();
      await migrate(db, domain, migrations);
      return db;
    })().catch((e) => {
      ready = undefined;
      throw e;
    });
    return ready;
  };
}
