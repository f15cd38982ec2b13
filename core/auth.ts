/**
 * Bearer tokens: stored as SHA-256 hashes in libSQL, compared in constant time.
 *
 * A token reads `src_<id>_<secret>`: `id` finds the row, the whole token's hash is compared.
 * Roles: `admin` (every app, approvals, nodes, audit; optionally limited to some facilities)
 * and `user` (only apps whose USER part is the token's user).
 *
 * @example
 * const { token } = await mintToken({ role: 'user', user: 'alice', name: 'alice laptop' });
 * const t = await verifyToken(token); // { id, role: 'user', user: 'alice', ... }
 *
 * @module
 */
import type { Client } from '@libsql/client';
import { domainDb, withBusyRetry, type Migration } from './store.ts';
import { env, timingSafeEqual, writeTextFile } from './runtime.ts';
import { loadConfig } from './config.ts';

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'tokens',
    sql: [
      `CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
        user TEXT,
        facilities TEXT,
        hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        revoked_at TEXT,
        last_used_at TEXT
      )`,
      'CREATE INDEX tokens_user ON tokens (user)',
    ],
  },
  {
    version: 2,
    name: 'token expiry',
    // ISO-8601 UTC; NULL: never expires
    sql: ['ALTER TABLE tokens ADD COLUMN expires_at TEXT'],
  },
];

/** The tokens database, migrated on first use. */
export const authDb = domainDb('auth', MIGRATIONS);

/** A token's record (never its secret or hash). */
export interface TokenRecord {
  id: string;
  name: string;
  role: 'admin' | 'user';
  /** For user tokens: the user whose apps it may touch. */
  user: string | null;
  /** For admin tokens: the facilities it is limited to (`null`: all). */
  facilities: string[] | null;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
  /** When the token stops working (ISO-8601 UTC); `null`: never. */
  expiresAt: string | null;
}

const TOKEN_RE = /^src_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
}
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** SHA-256 of a text (UTF-8), as lowercase hex (64 characters). */
export async function sha256Hex(text: string): Promise<string> {
  return hex(await sha256(text));
}

/**
 * The ID part of a token `src_<id>_<secret>`.
 * @param what how to name the token in the error, e.g. `SRC_ADMIN_TOKEN`
 * @throws Error when the token does not have that form
 */
function tokenIdOf(token: string, what: string): string {
  const m = token.match(TOKEN_RE);
  if (!m) throw new Error(`${what} must look like src_<12 lowercase letters/digits>_<43 base64url characters>; make one with \`npm run token -- generate\``);
  return m[1];
}
function fromHex(s: string): Uint8Array {
  return new Uint8Array(s.match(/../g)?.map((h) => parseInt(h, 16)) ?? []);
}
function randomString(bytes: number): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  return btoa(String.fromCharCode(...b))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}
function randomId(): string {
  const b = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(b, (x) => 'abcdefghijklmnopqrstuvwxyz0123456789'[x % 36]).join('');
}

function toRecord(r: Record<string, unknown>): TokenRecord {
  return {
    id: String(r.id),
    name: String(r.name),
    role: r.role as 'admin' | 'user',
    user: (r.user as string | null) ?? null,
    facilities: r.facilities ? (JSON.parse(String(r.facilities)) as string[]) : null,
    createdAt: String(r.created_at),
    revokedAt: (r.revoked_at as string | null) ?? null,
    lastUsedAt: (r.last_used_at as string | null) ?? null,
    expiresAt: (r.expires_at as string | null) ?? null,
  };
}

/**
 * Mints a token and stores its hash. The secret is returned once, here, and never again.
 * @param opts `role`, `name`; `user` (required for role user); `facilities` (admin limit)
 */
export async function mintToken(opts: {
  role: 'admin' | 'user';
  name: string;
  user?: string;
  facilities?: string[];
  token?: string;
  /** When it stops working (a `Date`); absent: never. */
  expiresAt?: Date;
}): Promise<{ token: string; record: TokenRecord }> {
  if (opts.role === 'user' && !opts.user) throw new Error('a user token needs a user');
  const expiresAt = opts.expiresAt?.toISOString() ?? null;
  const db = await authDb();
  const token = opts.token ?? generateToken();
  const id = tokenIdOf(token, 'a given token');
  const createdAt = new Date().toISOString();
  const hash = await sha256Hex(token);
  await withBusyRetry(() =>
    db.execute({
      sql: 'INSERT INTO tokens (id, name, role, user, facilities, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      args: [id, opts.name, opts.role, opts.user ?? null, opts.facilities ? JSON.stringify(opts.facilities) : null, hash, createdAt, expiresAt],
    }),
  );
  return { token, record: { id, name: opts.name, role: opts.role, user: opts.user ?? null, facilities: opts.facilities ?? null, createdAt, revokedAt: null, lastUsedAt: null, expiresAt } };
}

/**
 * Parses a token lifetime: `30d`, `12h`, `90m`, `2w`, or an ISO-8601 date/time (UTC unless it says).
 * @returns when the token expires
 * @throws Error naming the accepted forms, or when the moment is not in the future
 */
export function parseExpiry(text: string, now = Date.now()): Date {
  const m = text.match(/^(\d+)\s*([mhdw])$/);
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };
  const at = m ? new Date(now + Number(m[1]) * unit[m[2] as keyof typeof unit]) : /^\d{4}-\d{2}-\d{2}/.test(text) ? new Date(text) : new Date(NaN);
  if (Number.isNaN(at.getTime())) throw new Error(`--expires ${text}: must be a duration such as 30d, 12h, 90m, 2w, or an ISO date such as 2027-01-31`);
  if (at.getTime() <= now) throw new Error(`--expires ${text}: must be in the future`);
  return at;
}

/** Generates a token string without storing it (for `SRC_ADMIN_TOKEN`). */
export function generateToken(): string {
  return `src_${randomId()}_${randomString(32)}`;
}

/**
 * How long a verified token is trusted without asking the database again (ms), counted from the
 * start of the database read that confirmed it. A revocation (or a change of the row) takes
 * effect at once in the process that revoked, and within this in every other process; an
 * expiry is checked on every call.
 */
export const TOKEN_CACHE_MS = 1000;
/**
 * Tokens used within this long (ms) are confirmed again in the background every
 * {@link TOKEN_REFRESH_MS} (one query for all of them, {@link refreshTokenCache}), so that a
 * token in steady use never waits for the database and a revocation still takes effect within
 * {@link TOKEN_CACHE_MS}. An idle process asks nothing.
 */
export const TOKEN_KEEP_WARM_MS = 10_000;
/** Pause between two background confirmations (ms); well under {@link TOKEN_CACHE_MS}. */
export const TOKEN_REFRESH_MS = 400;
interface Verified {
  record: TokenRecord;
  /** SHA-256 of the token: compared with the row's hash at each confirmation. */
  hash: Uint8Array;
  /** `Date.now()` when the database read that last confirmed it started. */
  verifiedAt: number;
  /** `Date.now()` of its latest use. */
  usedAt: number;
}
const verified = new Map<string, Verified>();
/** At most this many tokens cached: past it the cache starts over (a flood of tokens cannot grow it). */
const TOKEN_CACHE_MAX = 10_000;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let refreshing: Promise<void> | undefined;

/**
 * Verifies a bearer token. A token confirmed by a database read that started less than
 * {@link TOKEN_CACHE_MS} ago is answered from memory (only valid tokens are kept; an unknown one
 * asks the database every time); tokens in use are confirmed again in the background.
 * @returns the token's record, or `null` when unknown, malformed, revoked or expired
 */
export async function verifyToken(token: string): Promise<TokenRecord | null> {
  const now = Date.now();
  const hit = verified.get(token);
  if (hit && now - hit.verifiedAt < TOKEN_CACHE_MS) {
    if (!hit.record.expiresAt || hit.record.expiresAt > new Date(now).toISOString()) {
      hit.usedAt = now;
      scheduleRefresh();
      return { ...hit.record };
    }
    verified.delete(token);
    return null;
  }
  const started = Date.now();
  const found = await verifyStored(token);
  if (found) {
    if (verified.size >= TOKEN_CACHE_MAX) verified.clear();
    verified.set(token, { record: found.record, hash: found.hash, verifiedAt: started, usedAt: now });
    scheduleRefresh();
  } else verified.delete(token);
  return found ? { ...found.record } : null;
}

function scheduleRefresh(): void {
  if (refreshTimer || refreshing) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = undefined;
    refreshTokenCache().then(() => {
      if ([...verified.values()].some((v) => Date.now() - v.usedAt < TOKEN_KEEP_WARM_MS)) scheduleRefresh();
    });
  }, TOKEN_REFRESH_MS);
  (refreshTimer as { unref?: () => void }).unref?.(); // never keeps a process alive
}

/**
 * One background confirmation (exported for tests): reads the rows of every cached token used
 * within {@link TOKEN_KEEP_WARM_MS} in one query; drops those revoked, expired, changed in
 * hash or gone, refreshes the others' records and their `verifiedAt` (the read's start), records
 * `last_used_at` (per minute) for those used, and forgets tokens neither used nor confirmed.
 * A failed read changes nothing (entries then age out after {@link TOKEN_CACHE_MS}).
 */
export function refreshTokenCache(): Promise<void> {
  refreshing ??= (async () => {
    const started = Date.now();
    const warm = [...verified].filter(([, v]) => started - v.usedAt < TOKEN_KEEP_WARM_MS);
    for (const [token, v] of verified) if (started - v.usedAt >= TOKEN_KEEP_WARM_MS && started - v.verifiedAt >= TOKEN_CACHE_MS) verified.delete(token);
    if (warm.length === 0) return;
    const db = await authDb();
    const ids = [...new Set(warm.map(([, v]) => v.record.id))];
    const rows = new Map<string, Record<string, unknown>>();
    for (let i = 0; i < ids.length; i += 500) {
      const part = ids.slice(i, i + 500);
      const r = await db.execute({ sql: `SELECT * FROM tokens WHERE id IN (${part.map(() => '?').join(',')})`, args: part });
      for (const row of r.rows as unknown as Record<string, unknown>[]) rows.set(String(row.id), row);
    }
    const nowIso = new Date().toISOString();
    const touched = new Map<string, Record<string, unknown>>();
    for (const [token, v] of warm) {
      if (verified.get(token) !== v) continue; // revoked or replaced meanwhile
      const row = rows.get(v.record.id);
      if (!liveRow(row, v.hash, nowIso)) {
        verified.delete(token);
        continue;
      }
      v.record = toRecord(row);
      v.verifiedAt = started;
      if (v.usedAt >= started - TOKEN_REFRESH_MS * 4) touched.set(v.record.id, row);
    }
    for (const row of touched.values()) markUsed(db, row, nowIso);
  })()
    .catch(() => undefined)
    .finally(() => {
      refreshing = undefined;
    });
  return refreshing;
}

/** Whether the stored `row` is a live token whose hash is `hash`: not revoked, not expired at `nowIso`. */
function liveRow(row: Record<string, unknown> | undefined, hash: Uint8Array, nowIso: string): row is Record<string, unknown> {
  if (!row || !timingSafeEqual(hash, fromHex(String(row.hash))) || row.revoked_at) return false;
  return !(row.expires_at && String(row.expires_at) <= nowIso); // expired: as good as revoked
}

/** Records that token `id` (its `row`) was used at `nowIso`, at most once a minute; never waits, never fails. */
function markUsed(db: Client, row: Record<string, unknown>, nowIso: string): void {
  if (String(row.last_used_at ?? '').slice(0, 16) === nowIso.slice(0, 16)) return;
  withBusyRetry(() => db.execute({ sql: 'UPDATE tokens SET last_used_at = ? WHERE id = ?', args: [nowIso, String(row.id)] })).catch(() => undefined);
}

/** {@link verifyToken} against the database, recording when the token was last used (per minute). */
async function verifyStored(token: string): Promise<{ record: TokenRecord; hash: Uint8Array } | null> {
  const m = token.match(TOKEN_RE);
  const given = await sha256(token); // hash even for malformed tokens: no timing shortcut
  if (!m) return null;
  const db = await authDb();
  const r = await db.execute({ sql: 'SELECT * FROM tokens WHERE id = ?', args: [m[1]] });
  const row = r.rows[0] as Record<string, unknown> | undefined;
  const now = new Date().toISOString();
  if (!liveRow(row, given, now)) return null;
  markUsed(db, row, now);
  return { record: toRecord(row), hash: given };
}

/** Lists tokens (records only). */
export async function listTokens(): Promise<TokenRecord[]> {
  const db = await authDb();
  const r = await db.execute('SELECT * FROM tokens ORDER BY created_at');
  return r.rows.map((x) => toRecord(x as Record<string, unknown>));
}

/** Revokes a token by ID. @returns whether a live token was revoked */
export async function revokeToken(id: string): Promise<boolean> {
  const db = await authDb();
  const r = await withBusyRetry(() => db.execute({ sql: 'UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', args: [new Date().toISOString(), id] }));
  for (const [token, v] of verified) if (v.record.id === id) verified.delete(token); // at once in this process
  return r.rowsAffected > 0;
}

let bootstrapped: Promise<{ created?: boolean; file?: string }> | undefined;
const ENV_ADMIN_NAME = 'env-admin (SRC_ADMIN_TOKEN)';

/**
 * Makes sure an admin token exists. `SRC_ADMIN_TOKEN` (if set) is stored as the `env-admin`
 * token, and an earlier, different `SRC_ADMIN_TOKEN` is revoked (rotation); otherwise, when no live admin token exists, one is minted, written to
 * `<dataDir>/admin-token` (mode 0600) and only there: the answer says `created` and the file's
 * path (for the caller to print), never the token (standard output ends up in journald).
 */
export function bootstrapAdmin(): Promise<{ created?: boolean; file?: string }> {
  bootstrapped ??= (async () => {
    const db = await authDb();
    const fromEnv = env('SRC_ADMIN_TOKEN');
    if (fromEnv) {
      const id = tokenIdOf(fromEnv, 'SRC_ADMIN_TOKEN');
      const existing = await db.execute({ sql: 'SELECT id FROM tokens WHERE id = ?', args: [id] });
      if (existing.rows.length === 0) {
        await mintToken({ role: 'admin', name: ENV_ADMIN_NAME, token: fromEnv }).catch(async (e) => {
          const again = await db.execute({ sql: 'SELECT id FROM tokens WHERE id = ?', args: [id] });
          if (again.rows.length === 0) throw e; // a concurrent process inserted it otherwise
        });
      }
      // a rotated SRC_ADMIN_TOKEN replaces the previous one: the old one stops working
      await withBusyRetry(() => db.execute({ sql: 'UPDATE tokens SET revoked_at = ? WHERE name = ? AND id <> ? AND revoked_at IS NULL', args: [new Date().toISOString(), ENV_ADMIN_NAME, id] }));
      verified.clear();
      return {};
    }
    const live = await db.execute("SELECT count(*) AS n FROM tokens WHERE role = 'admin' AND revoked_at IS NULL");
    if (Number(live.rows[0].n) > 0) return {};
    const { token } = await mintToken({ role: 'admin', name: 'first admin (created at first start)' });
    const file = `${loadConfig().dataDir}/admin-token`;
    writeTextFile(file, token + '\n', 0o600);
    return { created: true, file };
  })().catch((e) => {
    bootstrapped = undefined;
    throw e;
  });
  return bootstrapped;
}
