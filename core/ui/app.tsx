/** @jsxImportSource hono/jsx */
/**
 * The dashboard under `/ui/`: sign-in (token, or the facility's directory), sessions, and the
 * pages. Every read and action goes through the API's own route functions with the session's
 * token (core/ui/api.ts): the dashboard has no privilege the token lacks.
 *
 * POSTs are CSRF-safe three ways: the session cookie is SameSite=Strict, every form carries
 * the session's CSRF token (compared in constant time), and a cross-origin `Origin` is refused.
 * Actions answer 303 to a page that shows the outcome once (errors with the problem's detail,
 * and each failed item of a 207).
 *
 * @module
 */
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import pMap from 'p-map';
import { loadConfig } from '../config.ts';
import { adminsMayOpen } from '../gateway/access.ts';
import { listTokens, mintToken, revokeToken, verifyToken } from '../auth.ts';
import { CSS, JS } from './assets.ts';
import { callRoute, failures, problemText, routeResponse, type ApiAnswer } from './api.ts';
import { directoryFacilities, directoryOf } from './directory.ts';
import { BASE, type PageCtx } from './layout.tsx';
import { createSession, endSession, loadSession, sameSecret, SESSION_MS, setFlash, type Flash, type Session } from './session.ts';
import { AppView, AppsView, isAppAction, SignIn, type PsRow } from './views.tsx';
import { AuditView, ImagesView, NodesView, TokensView } from './views-admin.tsx';
import type { UptimeDetailView } from './chart.tsx';
import type { ImageRequest } from '../images/store.ts';

const COOKIE = 'src_ui';

/** A get-images row, the parts used. */
interface ImageRow {
  Repository: string;
  Tag: string;
  ApprovalState: string;
}
/** The references create-app may use: get-images' approved rows with a name. */
function approvedImages(rows: ImageRow[]): string[] {
  return [...new Set(rows.filter((r) => r.ApprovalState === 'approved' && r.Repository !== '<none>').map((r) => `${r.Repository}:${r.Tag}`))].sort();
}
const HTML_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self' http: https:",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
};

type Env = { Variables: { session: Session; facility: string } };

function facilityIds(): string[] {
  return Object.keys(loadConfig().facilities);
}
/** The facilities the token may use (admin tokens may be limited). */
function facilitiesOf(s: Session): string[] {
  const all = facilityIds();
  return s.record.facilities ? all.filter((f) => s.record.facilities!.includes(f)) : all;
}
function html(body: string | Promise<string>, status = 200) {
  return Promise.resolve(body).then((b) => new Response(`<!doctype html>${b}`, { status, headers: HTML_HEADERS }));
}
function see(location: string) {
  return new Response(null, { status: 303, headers: { location, 'cache-control': 'no-store' } });
}
function secure(c: Context): boolean {
  return new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
}
/**
 * The session cookie's prefix: under https `__Host-src_ui` (Secure, Path=/, no Domain), which no
 * other host can set, so an app under the same parent domain cannot plant a session (cookie
 * tossing); over plain http `src_ui` on /ui.
 */
function cookiePrefix(c: Context): 'host' | undefined {
  return secure(c) ? 'host' : undefined;
}
/** The session the request's cookie names, if it is live. */
function sessionOf(c: Context): Promise<Session | null> {
  return loadSession(getCookie(c, COOKIE, cookiePrefix(c)));
}
/** A cross-origin POST (its Origin names another host) is refused; SameSite=Strict already keeps the cookie off it. */
function crossOrigin(c: Context): boolean {
  const origin = c.req.header('origin');
  if (!origin || origin === 'null') return origin === 'null';
  const host = c.req.header('x-forwarded-host') ?? c.req.header('host');
  try {
    return new URL(origin).host !== host;
  } catch {
    return true;
  }
}
function pageCtx(s: Session, facility: string): PageCtx {
  const mayOpen = s.record.role === 'user' || adminsMayOpen(facility);
  return { facility, facilities: facilitiesOf(s), role: s.record.role, user: s.record.user, tokenName: s.record.name, mayOpen, csrf: s.csrf, flash: s.flash };
}
/** The page's flash is shown once: cleared as it renders. */
async function consumeFlash(s: Session): Promise<void> {
  if (s.flash.length) await setFlash(s.id, []);
}
/** The outcome of an API answer as a message: success only for 2xx without failed items. */
export function outcome(a: ApiAnswer, okText: string): Flash {
  if (a.ok) return { kind: 'ok', text: okText };
  if (a.status === 207) {
    const items = failures(a);
    return { kind: 'error', text: `${items.length} of ${(a.body as unknown[]).length} failed`, items };
  }
  return { kind: 'error', text: `${problemText(a)} (${a.status}${a.problem?.code ? ` ${a.problem.code}` : ''})`, items: failures(a) };
}

/** Builds the dashboard app (mounted at `/ui`). */
export function buildUi(): Hono<Env> {
  const ui = new Hono<Env>();

  ui.get(`${BASE}/assets/ui.css`, () => new Response(CSS, { headers: { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=300' } }));
  ui.get(`${BASE}/assets/ui.js`, () => new Response(JS, { headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'public, max-age=300' } }));

  const home = async (c: Context) => {
    const s = await sessionOf(c);
    if (s) return see(`${BASE}/${encodeURIComponent(s.directoryFacility ?? facilitiesOf(s)[0] ?? '')}/apps`);
    const flash: Flash[] = [];
    const why = c.req.query('why');
    if (why === 'ended') flash.push({ kind: 'error', text: 'Your session ended (signed out elsewhere, token revoked or expired, or you left the directory). Sign in again.' });
    if (why === 'out') flash.push({ kind: 'ok', text: 'Signed out.' });
    return html(SignIn({ flash, directoryFacilities: directoryFacilities(facilityIds()) }) as Promise<string>);
  };
  ui.get(BASE, home);
  ui.get(`${BASE}/`, home);

  ui.post(`${BASE}/sign-in`, async (c) => {
    if (crossOrigin(c)) return c.text('cross-origin sign-in refused', 403);
    const form = await c.req.formData();
    const token = String(form.get('token') ?? '').trim();
    const dirs = directoryFacilities(facilityIds());
    const fail = (text: string, status = 401) => html(SignIn({ flash: [{ kind: 'error', text }], directoryFacilities: dirs }) as Promise<string>, status);
    let id: string;
    if (token) {
      const record = await verifyToken(token);
      if (!record) return fail('That token is unknown, malformed, expired or revoked.');
      id = (await createSession({ token, record, source: 'token' })).id;
    } else {
      const user = String(form.get('username') ?? '').trim();
      const password = String(form.get('password') ?? '');
      const facility = String(form.get('facility') ?? '');
      const dir = directoryOf(facility);
      if (!dir) return fail(`Facility '${facility}' has no directory to sign in with; use a token`, 400);
      let verified = false;
      try {
        verified = /^[A-Za-z0-9._-]{1,64}$/.test(user) && (await dir.verify(user, password));
      } catch (e) {
        return fail(`The directory of '${facility}' cannot be asked (${(e as Error).message}); retry later or use a token`, 503);
      }
      if (!verified) return fail('Wrong user name or password.');
      // the session's own token lives no longer than the session
      const minted = await mintToken({ role: 'user', user, name: `dashboard sign-in (${new Date().toISOString().slice(0, 16)})`, expiresAt: new Date(Date.now() + SESSION_MS) });
      id = (await createSession({ token: minted.token, record: minted.record, source: 'directory', directoryUser: user, directoryFacility: facility })).id;
    }
    setCookie(c, COOKIE, id, { path: BASE, httpOnly: true, sameSite: 'Strict', secure: secure(c), maxAge: 8 * 3600, prefix: cookiePrefix(c) });
    return c.redirect(`${BASE}/`, 303);
  });

  ui.post(`${BASE}/sign-out`, async (c) => {
    const s = await sessionOf(c);
    const form = await c.req.formData();
    if (s) {
      if (crossOrigin(c) || !sameSecret(String(form.get('csrf') ?? ''), s.csrf)) return c.text('CSRF check failed', 403);
      await endSession(s.id);
      if (s.source === 'directory') await revokeToken(s.record.id);
    }
    deleteCookie(c, COOKIE, { path: BASE, prefix: cookiePrefix(c) });
    return c.redirect(`${BASE}/?why=out`, 303);
  });

  /** The request's live session, or the answer that refuses it (303 to sign-in, 403 CSRF). */
  const guard = async (c: Context<Env>): Promise<Session | Response> => {
    const s = await sessionOf(c);
    if (!s) return see(`${BASE}/?why=ended`);
    if (s.source === 'directory') {
      // every page asks the facility's identity sources (cached for identity.cacheSeconds)
      const dir = directoryOf(s.directoryFacility ?? '');
      let known: boolean;
      try {
        known = !!dir && (await dir.knows(s.directoryUser ?? ''));
      } catch (e) {
        return c.text(`The directory cannot be asked (${(e as Error).message}); retry later`, 503);
      }
      if (!known) {
        await endSession(s.id);
        await revokeToken(s.record.id);
        return see(`${BASE}/?why=ended`);
      }
    }
    if (c.req.method === 'POST') {
      const form = await c.req.raw.clone().formData();
      if (crossOrigin(c) || !sameSecret(String(form.get('csrf') ?? ''), s.csrf)) return c.text('CSRF check failed: reload the page and try again', 403);
    }
    return s;
  };
  // every other page needs a live session; POSTs also the CSRF token
  const PUBLIC = new Set(['', 'sign-in', 'sign-out', 'assets']);
  ui.use(`${BASE}/*`, async (c, next) => {
    const parts = new URL(c.req.url).pathname.slice(BASE.length + 1).split('/');
    if (PUBLIC.has(parts[0] ?? '')) return next();
    const s = await guard(c);
    if (s instanceof Response) return s;
    c.set('session', s);
    if (parts[0] !== 'tokens') {
      const f = decodeURIComponent(parts[0]);
      if (!facilitiesOf(s).includes(f)) return c.text(`Unknown facility '${f}' (or not one this token may use)`, 404);
      c.set('facility', f);
    }
    await next();
  });
  const back = (c: Context<Env>, page: string) => see(`${BASE}/${encodeURIComponent(c.get('facility'))}/${page}`);
  const flashAndBack = async (c: Context<Env>, flash: Flash, page: string) => {
    await setFlash(c.get('session').id, [flash]);
    return back(c, page);
  };
  const api = (c: Context<Env>, route: string, params: Record<string, string | string[] | undefined> = {}) =>
    callRoute(c.get('session').token, c.get('facility'), route, params, { signal: c.req.raw.signal });

  ui.get(`${BASE}/:facility/apps`, async (c) => {
    const s = c.get('session');
    const [status, images] = await Promise.all([api(c, 'get-app-status'), api(c, 'get-images')]);
    const rows = status.ok || status.status === 207 ? (status.body as PsRow[]).filter((r) => r?.Names) : [];
    const uptime: Record<string, number | null> = {};
    await pMap(
      rows,
      async (r) => {
        const u = await api(c, 'get-uptime-summary', { name: r.Names, duration: 'day', detail: 'true' });
        uptime[r.Names] = u.ok ? ((u.body as UptimeDetailView).uptimeRatio ?? null) : null;
      },
      { concurrency: 6 },
    );
    const approved = images.ok ? approvedImages(images.body as ImageRow[]) : [];
    await consumeFlash(s);
    return html(AppsView({ ctx: pageCtx(s, c.get('facility')), rows, uptime, urls: {}, approved, error: status.ok ? undefined : outcome(status, '').text }) as Promise<string>);
  });

  ui.post(`${BASE}/:facility/apps/action`, async (c) => {
    const form = await c.req.formData();
    const action = String(form.get('action') ?? '');
    const names = form.getAll('name').map(String).filter(Boolean);
    const page = form.get('back') === 'app' && names.length === 1 && action !== 'delete' ? `app?name=${encodeURIComponent(names[0])}` : 'apps';
    if (!isAppAction(action)) return flashAndBack(c, { kind: 'error', text: `Unknown action '${action}'` }, page);
    if (!names.length) return flashAndBack(c, { kind: 'error', text: `Select at least one app to ${action}` }, page);
    const a = await api(c, `${action}-app`, { name: names });
    return flashAndBack(c, outcome(a, `${action}: done for ${names.join(', ')}`), page);
  });

  ui.post(`${BASE}/:facility/apps/create`, async (c) => {
    const form = await c.req.formData();
    const a = await api(c, 'create-app', { image: String(form.get('image') ?? ''), user: String(form.get('user') ?? '') });
    return flashAndBack(c, outcome(a, `Created ${(a.body as { name?: string })?.name ?? 'the app'}`), 'apps');
  });

  ui.post(`${BASE}/:facility/open`, async (c) => {
    const a = await api(c, 'open-app', { name: c.req.query('name') });
    if (a.ok) return see((a.body as { url: string }).url);
    return flashAndBack(c, outcome(a, ''), 'apps');
  });

  ui.get(`${BASE}/:facility/stats.json`, async (c) => {
    const a = await api(c, 'get-app-stats', { name: c.req.query('name') });
    return new Response(JSON.stringify(a.body), { status: a.status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' } });
  });

  ui.get(`${BASE}/:facility/logs`, async (c) => {
    const res = await routeResponse(c.get('session').token, c.get('facility'), 'get-app-logs', { name: c.req.query('name'), follow: 'true', tail: '200' }, { signal: c.req.raw.signal });
    return new Response(res.body, { status: res.status, headers: { 'content-type': res.headers.get('content-type') ?? 'text/event-stream', 'cache-control': 'no-store', 'x-accel-buffering': 'no' } });
  });

  ui.get(`${BASE}/:facility/app`, async (c) => {
    const s = c.get('session');
    const name = c.req.query('name') ?? '';
    const duration = ['hour', 'day', 'week', 'month'].includes(c.req.query('duration') ?? '') ? c.req.query('duration')! : 'day';
    const [status, info, up] = await Promise.all([api(c, 'get-app-status', { name }), api(c, 'get-app-info', { name }), api(c, 'get-uptime-summary', { name, duration, detail: 'true' })]);
    await consumeFlash(s);
    const ctx = pageCtx(s, c.get('facility'));
    if (!status.ok) ctx.flash = [...ctx.flash, outcome(status, '')];
    const row = status.ok ? (Array.isArray(status.body) ? (status.body[0] as PsRow) : (status.body as PsRow)) : null;
    return html(
      AppView({
        ctx,
        name,
        row,
        info: info.ok ? (info.body as Record<string, unknown>) : null,
        uptime: up.ok ? (up.body as UptimeDetailView) : null,
        uptimeError: up.ok ? undefined : outcome(up, '').text,
        duration,
      }) as Promise<string>,
      status.ok ? 200 : status.status,
    );
  });

  ui.get(`${BASE}/:facility/images`, async (c) => {
    const s = c.get('session');
    const [a, images] = await Promise.all([api(c, 'get-image-requests', { limit: '200' }), api(c, 'get-images')]);
    await consumeFlash(s);
    const error = a.ok ? (images.ok ? undefined : outcome(images, '').text) : outcome(a, '').text;
    return html(
      ImagesView({
        ctx: pageCtx(s, c.get('facility')),
        requests: a.ok ? (a.body as ImageRequest[]) : [],
        approved: images.ok ? approvedImages(images.body as ImageRow[]) : [],
        error,
      }) as Promise<string>,
    );
  });
  for (const [path, route, ok] of [
    ['request', 'request-image', 'Requested'],
    ['approve', 'approve-image', 'Approved'],
    ['deny', 'deny-image', 'Denied'],
  ] as const) {
    ui.post(`${BASE}/:facility/images/${path}`, async (c) => {
      const form = await c.req.formData();
      const image = String(form.get('image') ?? '');
      const a = await api(c, route, { image, reason: route === 'deny-image' ? String(form.get('reason') ?? '') : undefined });
      return flashAndBack(c, outcome(a, `${ok} ${image}`), 'images');
    });
  }

  ui.get(`${BASE}/:facility/nodes`, async (c) => {
    const s = c.get('session');
    const a = await api(c, 'get-node-status');
    await consumeFlash(s);
    const rows = a.ok ? ((Array.isArray(a.body) ? a.body : [a.body]) as Record<string, unknown>[]) : [];
    return html(NodesView({ ctx: pageCtx(s, c.get('facility')), rows, error: a.ok ? undefined : outcome(a, '').text }) as Promise<string>, a.ok ? 200 : a.status);
  });

  ui.get(`${BASE}/:facility/audit`, async (c) => {
    const s = c.get('session');
    const filter: Record<string, string> = {};
    for (const k of ['route', 'user', 'since', 'failed']) {
      const v = c.req.query(k);
      if (v) filter[k] = v;
    }
    const a = await api(c, 'get-audit-log', { ...filter, limit: '200' });
    await consumeFlash(s);
    const rows = a.ok ? (a.body as Record<string, unknown>[]) : [];
    return html(AuditView({ ctx: pageCtx(s, c.get('facility')), rows, filter, error: a.ok ? undefined : outcome(a, '').text }) as Promise<string>, a.ok ? 200 : a.status);
  });

  const tokensPage = async (c: Context<Env>, minted?: string) => {
    const s = c.get('session');
    const user = s.record.role === 'user' ? s.record.user : null;
    const tokens = user ? (await listTokens()).filter((t) => t.role === 'user' && t.user === user && !t.revokedAt) : [];
    await consumeFlash(s);
    return html(
      TokensView({
        ctx: pageCtx(s, c.get('facility')),
        minted,
        note: user ? undefined : 'Admin tokens are managed on the server: npm run token -- mint | list | revoke.',
        tokens: tokens.map((t) => ({ id: t.id, name: t.name, createdAt: t.createdAt, lastUsedAt: t.lastUsedAt, current: t.id === s.record.id })),
      }) as Promise<string>,
    );
  };
  ui.get(`${BASE}/:facility/tokens`, (c) => tokensPage(c));
  ui.post(`${BASE}/tokens/mint`, async (c) => {
    const s = c.get('session');
    const form = await c.req.formData();
    const f = String(form.get('facility') ?? '');
    c.set('facility', facilitiesOf(s).includes(f) ? f : (facilitiesOf(s)[0] ?? ''));
    const name = String(form.get('name') ?? '').trim();
    if (s.record.role !== 'user' || !s.record.user) return flashAndBack(c, { kind: 'error', text: 'Only user sessions mint tokens here' }, 'tokens');
    if (!/^[\w .@()-]{1,60}$/.test(name)) return flashAndBack(c, { kind: 'error', text: 'name: 1 to 60 letters, digits, spaces or ._-@()' }, 'tokens');
    const { token } = await mintToken({ role: 'user', user: s.record.user, name });
    return tokensPage(c, token);
  });
  ui.post(`${BASE}/tokens/revoke`, async (c) => {
    const s = c.get('session');
    const form = await c.req.formData();
    const f = String(form.get('facility') ?? '');
    c.set('facility', facilitiesOf(s).includes(f) ? f : (facilitiesOf(s)[0] ?? ''));
    const id = String(form.get('id') ?? '');
    const mine = (await listTokens()).find((t) => t.id === id && t.role === 'user' && s.record.role === 'user' && t.user === s.record.user);
    if (!mine) return flashAndBack(c, { kind: 'error', text: `No token '${id}' of yours` }, 'tokens');
    await revokeToken(id);
    if (id === s.record.id) {
      await endSession(s.id);
      return see(`${BASE}/?why=ended`);
    }
    return flashAndBack(c, { kind: 'ok', text: `Revoked ${mine.name}` }, 'tokens');
  });

  ui.notFound((c) => c.text('Not found', 404));
  return ui;
}
