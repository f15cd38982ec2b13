/** @jsxImportSource hono/jsx */
/**
 * The dashboard's page frame: skip link, navigation for the facility, who is signed in and the
 * sign-out form, one-shot messages (errors as `role="alert"`), then the view.
 * @module
 */
import type { Child } from 'hono/jsx';
import type { Flash } from './session.ts';

/** Where the dashboard is mounted. */
export const BASE = '/ui';

/**
 * A count with its noun, singular for exactly one: `counted(1, 'node')` is `1 node`,
 * `counted(3, 'entry', 'entries')` is `3 entries` (the plural defaults to the noun + `s`).
 */
export function counted(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** What every signed-in page knows. */
export interface PageCtx {
  facility: string;
  facilities: string[];
  role: 'admin' | 'user';
  /** The user a user token acts for; null for admins. */
  user: string | null;
  tokenName: string;
  /** Whether this token may open the listed apps through the gateway (users: their own; admins: where `gateway.admins` allows). */
  mayOpen: boolean;
  csrf: string;
  flash: Flash[];
}

/** The CSRF field every POST form carries. */
export function Csrf(p: { csrf: string }) {
  return <input type="hidden" name="csrf" value={p.csrf} />;
}

/** One-shot messages. */
export function Messages(p: { flash: Flash[] }) {
  return (
    <>
      {p.flash.map((f) => (
        <div class={`msg ${f.kind}`} role={f.kind === 'error' ? 'alert' : 'status'} data-kind={f.kind}>
          <strong>{f.kind === 'error' ? 'Error: ' : ''}</strong>
          {f.text}
          {f.items?.length ? (
            <ul>
              {f.items.map((i) => (
                <li>{i}</li>
              ))}
            </ul>
          ) : null}
        </div>
      ))}
    </>
  );
}

/** A whole HTML document. */
export function Document(p: { title: string; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${p.title} · SRC dashboard`}</title>
        {/* no icon: a browser then asks for none (else a /favicon.ico 404 on a first visit) */}
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href={`${BASE}/assets/ui.css`} />
        <script src={`${BASE}/assets/ui.js`} defer />
      </head>
      <body>{p.children}</body>
    </html>
  );
}

/** A signed-in page: header with navigation, then `children` under an h1 of `title`. */
export function Page(p: { ctx: PageCtx; title: string; current: string; children: Child }) {
  const f = encodeURIComponent(p.ctx.facility);
  const links: [string, string][] = [
    ['apps', 'Apps'],
    ['images', 'Images'],
    ...(p.ctx.role === 'admin'
      ? ([
          ['nodes', 'Nodes'],
          ['audit', 'Audit log'],
        ] as [string, string][])
      : []),
    ['tokens', 'Tokens'],
  ];
  return (
    <Document title={p.title}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header>
        <nav aria-label="Main">
          <ul>
            {links.map(([k, label]) => (
              <li>
                <a href={`${BASE}/${f}/${k}`} aria-current={p.current === k ? 'page' : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        {p.ctx.facilities.length > 1 ? (
          <nav aria-label="Facilities">
            {p.ctx.facilities.map((x) => (
              <a href={`${BASE}/${encodeURIComponent(x)}/${p.current}`} aria-current={x === p.ctx.facility ? 'true' : undefined} style="margin-right:8px">
                {x}
              </a>
            ))}
          </nav>
        ) : null}
        <div class="who">
          <span data-who>
            {p.ctx.role === 'admin' ? `admin (${p.ctx.tokenName})` : p.ctx.user} · {p.ctx.facility}
          </span>
          <form method="post" action={`${BASE}/sign-out`} class="inline">
            <Csrf csrf={p.ctx.csrf} />
            <button type="submit">Sign out</button>
          </form>
        </div>
      </header>
      <main id="main">
        <h1>{p.title}</h1>
        <Messages flash={p.ctx.flash} />
        {p.children}
      </main>
    </Document>
  );
}
