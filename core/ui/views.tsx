/** @jsxImportSource hono/jsx */
/**
 * The dashboard's views of apps: the list with actions and create, and one app (details, live
 * stats, live log, uptime chart). Data comes from the API's answers (core/ui/api.ts); the
 * views only render.
 * @module
 */
import { BASE, Csrf, counted, Document, Messages, Page, type PageCtx } from './layout.tsx';
import { ratioText, UptimeChart, type UptimeDetailView } from './chart.tsx';
import type { Flash } from './session.ts';

/** A row of get-app-status (`docker ps --format json`). */
export interface PsRow {
  Names: string;
  Image: string;
  State: string;
  Status: string;
  CreatedAt: string;
  RunningFor: string;
  Labels?: string;
}

/** Shown instead of Open to admins where `gateway.admins` is off (open-app would answer 403). */
const NOT_OPENABLE = 'its user opens it';

/** The user part of an app name IMAGE--USER. */
export function userOf(name: string): string {
  const i = name.lastIndexOf('--');
  return i < 0 ? '' : name.slice(i + 2);
}

const ACTIONS = ['start', 'stop', 'pause', 'unpause', 'restart', 'kill', 'hard-reset', 'delete'] as const;
/** The app actions the dashboard offers; each is the route `<action>-app`. */
export type AppAction = (typeof ACTIONS)[number];
export function isAppAction(a: string): a is AppAction {
  return (ACTIONS as readonly string[]).includes(a);
}

/** The sign-in page: a token form, and a directory form where the facility has a directory. */
export function SignIn(p: { flash: Flash[]; directoryFacilities: string[] }) {
  return (
    <Document title="Sign in">
      <main id="main">
        <h1>Sign in to the SRC dashboard</h1>
        <Messages flash={p.flash} />
        {p.directoryFacilities.length ? (
          <form method="post" action={`${BASE}/sign-in`}>
            <fieldset>
              <legend>With your site account</legend>
              <p>
                <label for="username">User name</label>
                <input id="username" name="username" autocomplete="username" required />
              </p>
              <p>
                <label for="password">Password</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required />
              </p>
              {p.directoryFacilities.length > 1 ? (
                <p>
                  <label for="dir-facility">Facility</label>
                  <select id="dir-facility" name="facility">
                    {p.directoryFacilities.map((f) => (
                      <option>{f}</option>
                    ))}
                  </select>
                </p>
              ) : (
                <input type="hidden" name="facility" value={p.directoryFacilities[0]} />
              )}
              <button type="submit" class="primary">
                Sign in
              </button>
            </fieldset>
          </form>
        ) : null}
        <form method="post" action={`${BASE}/sign-in`}>
          <fieldset>
            <legend>With an API token</legend>
            <p>
              <label for="token">API token</label>
              <input id="token" name="token" type="password" autocomplete="off" required size={60} placeholder="src_…" />
            </p>
            <p class="muted">
              A token from <code>npm run token -- mint --user NAME</code>, an admin's token, or one you minted here. The dashboard keeps it sealed in its session and forgets it when you sign out.
            </p>
            <button type="submit" class="primary">
              Sign in with token
            </button>
          </fieldset>
        </form>
      </main>
    </Document>
  );
}

/** The apps list: select several and act, open, create. */
export function AppsView(p: { ctx: PageCtx; rows: PsRow[]; uptime: Record<string, number | null>; urls: Record<string, string>; approved: string[]; error?: string }) {
  const f = encodeURIComponent(p.ctx.facility);
  const names = p.rows.map((r) => r.Names);
  return (
    <Page ctx={p.ctx} title="Apps" current="apps">
      <form method="post" action={`${BASE}/${f}/apps/action`} id="apps-form">
        <Csrf csrf={p.ctx.csrf} />
        <fieldset class="actions">
          <legend>Act on the selected apps</legend>
          {ACTIONS.map((a) => (
            <button type="submit" name="action" value={a} class={a === 'delete' || a === 'kill' || a === 'hard-reset' ? 'danger' : undefined}>
              {a === 'hard-reset' ? 'Hard reset' : a[0].toUpperCase() + a.slice(1)}
            </button>
          ))}
        </fieldset>
        <section class="tablewrap" aria-label="Apps" tabindex={0}>
          <table data-stats={names.length ? `${BASE}/${f}/stats.json` : undefined} id="apps">
            <caption class="muted">{counted(p.rows.length, 'app')}; CPU and memory update every few seconds</caption>
            <thead>
              <tr>
                <th scope="col">
                  <input type="checkbox" data-select-all aria-label="Select all apps" />
                </th>
                <th scope="col">App</th>
                <th scope="col">User</th>
                <th scope="col">Image</th>
                <th scope="col">State</th>
                <th scope="col">Created</th>
                <th scope="col">Uptime (day)</th>
                <th scope="col">CPU</th>
                <th scope="col">Memory</th>
                <th scope="col">Open</th>
              </tr>
            </thead>
            <tbody>
              {p.rows.map((r) => (
                <tr data-app={r.Names}>
                  <td>
                    <input type="checkbox" name="name" value={r.Names} aria-label={`Select ${r.Names}`} />
                  </td>
                  <td>
                    <a href={`${BASE}/${f}/app?name=${encodeURIComponent(r.Names)}`}>{r.Names}</a>
                  </td>
                  <td>{userOf(r.Names)}</td>
                  <td>{r.Image}</td>
                  <td class={`state-${r.State}`} data-state>
                    {r.State}
                    <span class="muted"> ({r.Status})</span>
                  </td>
                  <td title={r.CreatedAt}>{r.RunningFor}</td>
                  <td class="num">{ratioText(p.uptime[r.Names])}</td>
                  <td class="num" data-cpu>
                    –
                  </td>
                  <td class="num" data-mem>
                    –
                  </td>
                  <td>
                    {r.State !== 'running' ? (
                      <span class="muted">not running</span>
                    ) : p.ctx.mayOpen ? (
                      <button type="submit" formaction={`${BASE}/${f}/open?name=${encodeURIComponent(r.Names)}`} aria-label={`Open ${r.Names}`}>
                        Open
                      </button>
                    ) : (
                      <span class="muted">{NOT_OPENABLE}</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </form>
      {p.error ? (
        <div class="msg error" role="alert">
          {p.error}
        </div>
      ) : null}
      <h2 id="create-h">Create an app</h2>
      {p.approved.length ? (
        <form method="post" action={`${BASE}/${f}/apps/create`} aria-labelledby="create-h">
          <Csrf csrf={p.ctx.csrf} />
          <label for="create-image">Image</label>
          <select id="create-image" name="image">
            {p.approved.map((i) => (
              <option>{i}</option>
            ))}
          </select>{' '}
          {p.ctx.role === 'admin' ? (
            <>
              <label for="create-user">User</label>
              <input id="create-user" name="user" required pattern="[A-Za-z0-9._-]+" />
            </>
          ) : (
            <input type="hidden" name="user" value={p.ctx.user ?? ''} />
          )}{' '}
          <button type="submit" class="primary">
            Create
          </button>
        </form>
      ) : (
        <p>
          No image is approved in this facility yet: <a href={`${BASE}/${f}/images`}>request one</a>.
        </p>
      )}
    </Page>
  );
}

/** One app: details, live stats, live log, uptime chart. */
export function AppView(p: { ctx: PageCtx; name: string; row: PsRow | null; info: Record<string, unknown> | null; uptime: UptimeDetailView | null; uptimeError?: string; duration: string }) {
  const f = encodeURIComponent(p.ctx.facility);
  const q = encodeURIComponent(p.name);
  const cfg = (p.info?.Config ?? p.info?.Spec ?? {}) as Record<string, unknown>;
  return (
    <Page ctx={p.ctx} title={p.name} current="apps">
      <p>
        <a href={`${BASE}/${f}/apps`}>← All apps</a>
      </p>
      {p.row ? (
        <>
          <dl class="kv">
            <dt>State</dt>
            <dd class={`state-${p.row.State}`} data-state>
              {p.row.State} ({p.row.Status})
            </dd>
            <dt>User</dt>
            <dd>{userOf(p.name)}</dd>
            <dt>Image</dt>
            <dd>{p.row.Image}</dd>
            <dt>Created</dt>
            <dd>{p.row.CreatedAt}</dd>
            {cfg.Hostname ? (
              <>
                <dt>Hostname</dt>
                <dd>{String(cfg.Hostname)}</dd>
              </>
            ) : null}
          </dl>
          <form method="post" action={`${BASE}/${f}/apps/action`}>
            <Csrf csrf={p.ctx.csrf} />
            <input type="hidden" name="name" value={p.name} />
            <input type="hidden" name="back" value="app" />
            <fieldset class="actions">
              <legend>Actions</legend>
              {ACTIONS.map((a) => (
                <button type="submit" name="action" value={a}>
                  {a === 'hard-reset' ? 'Hard reset' : a[0].toUpperCase() + a.slice(1)}
                </button>
              ))}
              {p.row.State === 'running' && p.ctx.mayOpen ? (
                <button type="submit" formaction={`${BASE}/${f}/open?name=${q}`} class="primary">
                  Open
                </button>
              ) : null}
            </fieldset>
          </form>
          <h2>Resources</h2>
          <section class="tablewrap" aria-label="Resources" tabindex={0}>
            <table data-stats={`${BASE}/${f}/stats.json?name=${q}`}>
              <thead>
                <tr>
                  <th scope="col">CPU</th>
                  <th scope="col">Memory</th>
                </tr>
              </thead>
              <tbody>
                <tr data-app={p.name}>
                  <td class="num" data-cpu>
                    –
                  </td>
                  <td class="num" data-mem>
                    –
                  </td>
                </tr>
              </tbody>
            </table>
          </section>
          <h2>Log</h2>
          <p id="log-state" role="status" class="muted">
            Following the log live
          </p>
          <pre class="log" role="log" data-log={`${BASE}/${f}/logs?name=${q}`} tabindex={0} aria-label={`Log of ${p.name}`} />
        </>
      ) : null}
      <h2>Uptime</h2>
      <nav aria-label="Uptime window">
        {['hour', 'day', 'week', 'month'].map((d) => (
          <a href={`${BASE}/${f}/app?name=${q}&duration=${d}`} aria-current={d === p.duration ? 'page' : undefined} style="margin-right:12px">
            {d}
          </a>
        ))}
      </nav>
      {p.uptime ? (
        <UptimeChart d={p.uptime} duration={p.duration} />
      ) : (
        <div class="msg error" role="alert">
          {p.uptimeError}
        </div>
      )}
    </Page>
  );
}
