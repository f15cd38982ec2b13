/**
 * Browser sign-in to apps: single-use tickets and signed cookies.
 *
 * - `open-app` issues a ticket (32 random bytes, base64url) for one app and one token, valid
 *   `ticketSeconds` (default 60); the database keeps only its SHA-256, and redeeming marks it
 *   used in the same statement, so a ticket opens one browser once, on any replica.
 * - The app's host exchanges it for a cookie `b64url(JSON payload).b64url(HMAC-SHA256)`, signed
 *   with a key every replica shares: 32 random bytes created once in the database.
 *
 * @module
 */
import { domainDb, withBusyRetry, type Migration } from '../store.ts';
import { timingSafeEqual } from '../runtime.ts';

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'gateway keys and tickets',
    sql: [
      'CREATE TABLE gateway_keys (id INTEGER PRIMARY KEY CHECK (id = 1), secret TEXT NOT NULL, created_at TEXT NOT NULL)',
      `CREATE TABLE gateway_tickets (
        hash TEXT PRIMARY KEY,
        facility TEXT NOT NULL,
        app TEXT NOT NULL,
        target TEXT NOT NULL,
        token_id TEXT NOT NULL,
        on_behalf_of TEXT,
        expires_at INTEGER NOT NULL,
        used_at INTEGER
      )`,
    ],
  },
];

const gatewayDb = domainDb('gateway', MIGRATIONS);

const b64url = (b: Uint8Array) =>
  btoa(String.fromCharCode(...b))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
const fromB64url = (s: string) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
const randomB64url = (n: number) => b64url(crypto.getRandomValues(new Uint8Array(n)));

async function sha256Hex(text: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  return Array.from(d, (x) => x.toString(16).padStart(2, '0')).join('');
}

let keyPromise: Promise<CryptoKey> | undefined;

/** The shared cookie-signing key: created once in the database (the first replica wins), then read. */
export function signingKey(): Promise<CryptoKey> {
  keyPromise ??= (async () => {
    const db = await gatewayDb();
    await withBusyRetry(() => db.execute({ sql: 'INSERT OR IGNORE INTO gateway_keys (id, secret, created_at) VALUES (1, ?, ?)', args: [randomB64url(32), new Date().toISOString()] }));
    const r = await db.execute('SELECT secret FROM gateway_keys WHERE id = 1');
    return crypto.subtle.importKey('raw', fromB64url(String(r.rows[0].secret)), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
  })().catch((e) => {
    keyPromise = undefined;
    throw e;
  });
  return keyPromise;
}

/** What a ticket or cookie grants: one app (facility, name, label or path prefix) for one token. */
export interface Grant {
  facility: string;
  app: string;
  /** The app's label (subdomain mode) or path prefix (path mode): the cookie is valid there only. */
  target: string;
  tokenId: string;
  /** The user an admin token acted for when it opened the app (`X-On-Behalf-Of`). */
  onBehalfOf?: string;
}

/**
 * Issues a single-use ticket for `grant`, valid `seconds`.
 * @returns the ticket (43 base64url characters)
 */
export async function issueTicket(grant: Grant, seconds: number): Promise<string> {
  const db = await gatewayDb();
  const ticket = randomB64url(32);
  const now = Date.now();
  const hash = await sha256Hex(ticket);
  await withBusyRetry(() =>
    db.batch(
      [
        { sql: 'DELETE FROM gateway_tickets WHERE expires_at < ?', args: [now - 3600_000] },
        {
          sql: 'INSERT INTO gateway_tickets (hash, facility, app, target, token_id, on_behalf_of, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
          args: [hash, grant.facility, grant.app, grant.target, grant.tokenId, grant.onBehalfOf ?? null, now + seconds * 1000],
        },
      ],
      'write',
    ),
  );
  return ticket;
}

/**
 * Redeems a ticket: marks it used and answers its grant; `null` when unknown, used or expired.
 */
export async function redeemTicket(ticket: string): Promise<Grant | null> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(ticket)) return null;
  const db = await gatewayDb();
  const now = Date.now();
  const hash = await sha256Hex(ticket);
  const u = await withBusyRetry(() =>
    db.execute({ sql: 'UPDATE gateway_tickets SET used_at = ? WHERE hash = ? AND used_at IS NULL AND expires_at > ? RETURNING facility, app, target, token_id, on_behalf_of', args: [now, hash, now] }),
  );
  const row = u.rows[0];
  if (!row) return null;
  return { facility: String(row.facility), app: String(row.app), target: String(row.target), tokenId: String(row.token_id), ...(row.on_behalf_of ? { onBehalfOf: String(row.on_behalf_of) } : {}) };
}

/** A cookie's payload: the grant and its expiry (epoch seconds). */
export interface CookieGrant extends Grant {
  expires: number;
}

/** Signs `grant` into a cookie value. */
export async function signCookie(grant: CookieGrant): Promise<string> {
  const body = b64url(new TextEncoder().encode(JSON.stringify({ f: grant.facility, a: grant.app, x: grant.target, t: grant.tokenId, o: grant.onBehalfOf, e: grant.expires })));
  const sig = new Uint8Array(await crypto.subtle.sign('HMAC', await signingKey(), new TextEncoder().encode(body)));
  return `${body}.${b64url(sig)}`;
}

/** Cookies verified already (value -> grant): the HMAC is computed once per cookie, not per request. */
const verified = new Map<string, CookieGrant>();

/** Verifies a cookie value: its grant, or `null` when malformed, forged or expired. */
export async function verifyCookie(value: string | undefined): Promise<CookieGrant | null> {
  const known = value === undefined ? undefined : verified.get(value);
  if (known) return known.expires * 1000 > Date.now() ? known : null;
  const g = await verifyCookieOnce(value);
  if (g && value) {
    if (verified.size >= 10_000) verified.clear();
    verified.set(value, g);
  }
  return g;
}

async function verifyCookieOnce(value: string | undefined): Promise<CookieGrant | null> {
  const m = value?.match(/^([A-Za-z0-9_-]{1,2000})\.([A-Za-z0-9_-]{43})$/);
  if (!m) return null;
  const expected = new Uint8Array(await crypto.subtle.sign('HMAC', await signingKey(), new TextEncoder().encode(m[1])));
  if (!timingSafeEqual(expected, fromB64url(m[2]))) return null;
  try {
    const p = JSON.parse(new TextDecoder().decode(fromB64url(m[1]))) as { f: string; a: string; x: string; t: string; o?: string; e: number };
    if (typeof p.e !== 'number' || p.e * 1000 <= Date.now()) return null;
    return { facility: p.f, app: p.a, target: p.x, tokenId: p.t, ...(p.o ? { onBehalfOf: p.o } : {}), expires: p.e };
  } catch {
    return null;
  }
}
