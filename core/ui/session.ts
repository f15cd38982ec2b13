/**
 * Dashboard sessions: an opaque random id in an HttpOnly SameSite=Strict cookie; the database
 * keeps only its SHA-256, the signed-in API token sealed with AES-GCM under a key derived from
 * the id (a copy of the database alone reveals no token), a CSRF token and a one-shot flash.
 *
 * A session is only as good as its token: every page load verifies the token again
 * (core/auth.ts), so a revoked or expired token ends the session. A session signed in through
 * the facility's directory holds a token minted for it (revoked at sign-out), and every page
 * asks the directory whether its user is still there (core/ui/directory.ts).
 *
 * @example
 * const { id } = await createSession({ token, record, source: 'token' });
 * const s = await loadSession(id); // null once signed out, expired or revoked
 *
 * @module
 */
import { domainDb, withBusyRetry, type Migration } from '../store.ts';
import { sha256Hex, verifyToken, type TokenRecord } from '../auth.ts';

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'ui-sessions',
    sql: [
      `CREATE TABLE ui_sessions (
        id_hash TEXT PRIMARY KEY,
        token_id TEXT NOT NULL,
        sealed TEXT NOT NULL,
        csrf TEXT NOT NULL,
        source TEXT NOT NULL,
        directory_user TEXT,
        directory_facility TEXT,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        flash TEXT
      )`,
      'CREATE INDEX ui_sessions_expiry ON ui_sessions (expires_at)',
    ],
  },
];

/** The sessions database, migrated on first use. */
export const uiDb = domainDb('ui', MIGRATIONS);

/** How long a session lives (ms): 8 hours. */
export const SESSION_MS = 8 * 3600_000;
/** A message shown once on the next page. */
export interface Flash {
  kind: 'ok' | 'error';
  text: string;
  /** Per-item lines (a 207's failures, a problem's detail). */
  items?: string[];
}

/** A live session. */
export interface Session {
  /** The cookie value (never stored). */
  id: string;
  token: string;
  record: TokenRecord;
  csrf: string;
  source: 'token' | 'directory';
  directoryUser: string | null;
  directoryFacility: string | null;
  flash: Flash[];
}

function b64url(b: Uint8Array): string {
  return btoa(String.fromCharCode(...b))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}
function fromB64url(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}
function randomToken(bytes = 32): string {
  return b64url(crypto.getRandomValues(new Uint8Array(bytes)));
}
async function keyOf(id: string): Promise<CryptoKey> {
  const raw = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`src-ui-seal\u0000${id}`));
  return crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
}
async function seal(id: string, token: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, await keyOf(id), new TextEncoder().encode(token)));
  return `${b64url(iv)}.${b64url(ct)}`;
}
async function unseal(id: string, sealed: string): Promise<string | null> {
  const [iv, ct] = sealed.split('.');
  try {
    const pt = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: fromB64url(iv) }, await keyOf(id), fromB64url(ct));
    return new TextDecoder().decode(pt);
  } catch {
    return null;
  }
}
const hashOf = (id: string) => sha256Hex(`src-ui-session\u0000${id}`);

/** Starts a session for a verified token; answers the cookie value. */
export async function createSession(opts: { token: string; record: TokenRecord; source: 'token' | 'directory'; directoryUser?: string; directoryFacility?: string }): Promise<{ id: string }> {
  const db = await uiDb();
  const id = randomToken();
  const now = Date.now();
  const idHash = await hashOf(id);
  const sealed = await seal(id, opts.token);
  await withBusyRetry(() =>
    db.execute({
      sql: `INSERT INTO ui_sessions (id_hash, token_id, sealed, csrf, source, directory_user, directory_facility, created_at, expires_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      args: [idHash, opts.record.id, sealed, randomToken(24), opts.source, opts.directoryUser ?? null, opts.directoryFacility ?? null, now, now + SESSION_MS],
    }),
  );
  // sessions past their expiry go now and then (cheap: an index range)
  if (Math.random() < 0.1) await db.execute({ sql: 'DELETE FROM ui_sessions WHERE expires_at < ?', args: [now] }).catch(() => undefined);
  return { id };
}

/**
 * The session of a cookie value, with its token verified again; `null` (and the row removed)
 * when unknown, expired, or its token is revoked or expired.
 */
export async function loadSession(id: string | undefined): Promise<Session | null> {
  if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
  const db = await uiDb();
  const idHash = await hashOf(id);
  const r = await db.execute({ sql: 'SELECT * FROM ui_sessions WHERE id_hash = ?', args: [idHash] });
  const row = r.rows[0] as Record<string, unknown> | undefined;
  if (!row) return null;
  const token = Number(row.expires_at) > Date.now() ? await unseal(id, String(row.sealed)) : null;
  const record = token ? await verifyToken(token) : null;
  if (!token || !record) {
    await endSession(id);
    return null;
  }
  return {
    id,
    token,
    record,
    csrf: String(row.csrf),
    source: row.source === 'directory' ? 'directory' : 'token',
    directoryUser: (row.directory_user as string | null) ?? null,
    directoryFacility: (row.directory_facility as string | null) ?? null,
    flash: row.flash ? (JSON.parse(String(row.flash)) as Flash[]) : [],
  };
}

/** Sets the messages the next page shows (replacing any not yet shown). */
export async function setFlash(id: string, flash: Flash[]): Promise<void> {
  const db = await uiDb();
  await withBusyRetry(async () => db.execute({ sql: 'UPDATE ui_sessions SET flash = ? WHERE id_hash = ?', args: [flash.length ? JSON.stringify(flash) : null, await hashOf(id)] }));
}

/** Ends a session (sign-out, or its token stopped working). */
export async function endSession(id: string): Promise<void> {
  const db = await uiDb();
  await withBusyRetry(async () => db.execute({ sql: 'DELETE FROM ui_sessions WHERE id_hash = ?', args: [await hashOf(id)] }));
}

/** Compares two strings in time independent of where they differ. */
export function sameSecret(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return d === 0;
}
