/** @jsxImportSource hono/jsx */
/**
 * The dashboard's views of images (requests, approvals, pull progress), nodes, the audit log
 * and the signed-in user's tokens.
 * @module
 */
import { BASE, Csrf, counted, Page, type PageCtx } from './layout.tsx';
import type { ImageRequest } from '../images/store.ts';

function progressText(r: ImageRequest): string {
  const pr = r.pull?.progress;
  if (!pr) return r.state === 'pulling' ? 'starting' : r.pull?.alreadyPresent ? 'already present' : '';
  const kib = (n: number) => Math.round(n / 1024);
  return `${pr.status}: layers ${pr.layers.done}/${pr.layers.total}, ${kib(pr.bytes.done)} of ${kib(pr.bytes.total)} KiB`;
}

/** Image requests with their state and live pull progress; admins approve and deny. */
export function ImagesView(p: { ctx: PageCtx; requests: ImageRequest[]; approved: string[]; error?: string }) {
  const f = encodeURIComponent(p.ctx.facility);
  const admin = p.ctx.role === 'admin';
  const busy = p.requests.some((r) => r.state === 'pulling' || (r.state === 'approved' && !r.imageId));
  return (
    <Page ctx={p.ctx} title="Images" current="images">
      <h2>Approved images</h2>
      {p.approved.length ? (
        <ul id="approved">
          {p.approved.map((i) => (
            <li>{i}</li>
          ))}
        </ul>
      ) : (
        <p>No approved image is on this facility's Engine yet.</p>
      )}
      <h2 id="req-h">Request an image</h2>
      <form method="post" action={`${BASE}/${f}/images/request`} aria-labelledby="req-h">
        <Csrf csrf={p.ctx.csrf} />
        <label for="req-image">Image reference</label>
        <input id="req-image" name="image" required placeholder="busybox:1.36" />{' '}
        <button type="submit" class="primary">
          Request
        </button>
      </form>
      <h2>Requests and approvals</h2>
      {p.error ? (
        <div class="msg error" role="alert">
          {p.error}
        </div>
      ) : null}
      <section id="requests" data-refresh={busy ? '1500' : undefined} class="tablewrap" aria-label="Image requests" tabindex={0}>
        <table>
          <thead>
            <tr>
              <th scope="col">Image</th>
              <th scope="col">State</th>
              <th scope="col">Requested by</th>
              <th scope="col">Pull</th>
              <th scope="col">Reason / error</th>
              {admin ? <th scope="col">Decide</th> : null}
            </tr>
          </thead>
          <tbody>
            {p.requests.map((r, i) => (
              <tr data-image={r.familiar}>
                <td>{r.familiar}</td>
                <td data-state>{r.state}</td>
                <td>{r.requestedBy ?? ''}</td>
                <td data-progress>{progressText(r)}</td>
                <td>{(r.state === 'denied' ? r.reason : (r.error ?? r.reason)) ?? ''}</td>
                {admin ? (
                  <td>
                    <form method="post" action={`${BASE}/${f}/images/approve`} class="inline">
                      <Csrf csrf={p.ctx.csrf} />
                      <input type="hidden" name="image" value={r.image} />
                      <button type="submit" aria-label={`Approve ${r.familiar}`}>
                        Approve
                      </button>
                    </form>{' '}
                    <form method="post" action={`${BASE}/${f}/images/deny`} class="inline">
                      <Csrf csrf={p.ctx.csrf} />
                      <input type="hidden" name="image" value={r.image} />
                      <label for={`reason-${i}`}>Reason</label>
                      <input id={`reason-${i}`} name="reason" required size={16} />
                      <button type="submit" class="danger" aria-label={`Deny ${r.familiar}`}>
                        Deny
                      </button>
                    </form>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </Page>
  );
}

/** Generic table of JSON rows with the given columns. */
function Rows(p: { rows: Record<string, unknown>[]; cols: [string, string][]; caption: string }) {
  return (
    <section class="tablewrap" aria-label={p.caption} tabindex={0}>
      <table>
        <caption class="muted">{p.caption}</caption>
        <thead>
          <tr>
            {p.cols.map(([, label]) => (
              <th scope="col">{label}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {p.rows.map((r) => (
            <tr>
              {p.cols.map(([k]) => (
                <td>{r[k] === null || r[k] === undefined ? '' : typeof r[k] === 'object' ? JSON.stringify(r[k]) : String(r[k])}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** Nodes (swarm) or the Engine host (solo) with state and availability. */
export function NodesView(p: { ctx: PageCtx; rows: Record<string, unknown>[]; error?: string }) {
  return (
    <Page ctx={p.ctx} title="Nodes" current="nodes">
      {p.error ? (
        <div class="msg error" role="alert">
          {p.error}
        </div>
      ) : (
        <Rows
          rows={p.rows}
          caption={counted(p.rows.length, 'node')}
          cols={[
            ['Hostname', 'Hostname'],
            ['Status', 'State'],
            ['Availability', 'Availability'],
            ['ManagerStatus', 'Manager'],
            ['EngineVersion', 'Engine'],
          ]}
        />
      )}
    </Page>
  );
}

/** The audit log, filtered (admins). */
export function AuditView(p: { ctx: PageCtx; rows: Record<string, unknown>[]; filter: Record<string, string>; error?: string }) {
  const f = encodeURIComponent(p.ctx.facility);
  return (
    <Page ctx={p.ctx} title="Audit log" current="audit">
      <form method="get" action={`${BASE}/${f}/audit`}>
        <label for="a-route">Route</label>
        <input id="a-route" name="route" value={p.filter.route ?? ''} size={14} /> <label for="a-user">User</label>
        <input id="a-user" name="user" value={p.filter.user ?? ''} size={12} /> <label for="a-since">Since (ISO-8601)</label>
        <input id="a-since" name="since" value={p.filter.since ?? ''} size={22} /> <label for="a-failed">Outcome</label>
        <select id="a-failed" name="failed">
          <option value="" selected={!p.filter.failed}>
            all
          </option>
          <option value="true" selected={p.filter.failed === 'true'}>
            failed
          </option>
          <option value="false" selected={p.filter.failed === 'false'}>
            succeeded
          </option>
        </select>{' '}
        <button type="submit">Filter</button>
      </form>
      {p.error ? (
        <div class="msg error" role="alert">
          {p.error}
        </div>
      ) : (
        <Rows
          rows={p.rows}
          caption={`${counted(p.rows.length, 'entry', 'entries')}, newest first`}
          cols={[
            ['at', 'When'],
            ['route', 'Route'],
            ['target', 'Target'],
            ['subjectName', 'Token'],
            ['onBehalfOf', 'On behalf of'],
            ['status', 'Status'],
            ['result', 'Result'],
          ]}
        />
      )}
    </Page>
  );
}

/** A token as listed to its owner. */
export interface TokenRow {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  current: boolean;
}

/** The signed-in user's tokens: mint (shown once) and revoke. */
export function TokensView(p: { ctx: PageCtx; tokens: TokenRow[]; minted?: string; note?: string }) {
  return (
    <Page ctx={p.ctx} title="Tokens" current="tokens">
      {p.minted ? (
        <div class="msg ok" role="status">
          <p>Your new token (shown once; copy it now):</p>
          <p>
            <label for="minted">New token</label> <input id="minted" readonly value={p.minted} size={70} data-minted />
          </p>
        </div>
      ) : null}
      {p.note ? <p>{p.note}</p> : null}
      {p.ctx.role === 'user' ? (
        <>
          <form method="post" action={`${BASE}/tokens/mint`}>
            <Csrf csrf={p.ctx.csrf} />
            <input type="hidden" name="facility" value={p.ctx.facility} />
            <label for="tok-name">Name</label>
            <input id="tok-name" name="name" required maxlength={60} placeholder="laptop" />{' '}
            <button type="submit" class="primary">
              Mint a token
            </button>
          </form>
          <section class="tablewrap" aria-label="Your tokens" tabindex={0}>
            <table>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">ID</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Revoke</th>
                </tr>
              </thead>
              <tbody>
                {p.tokens.map((t) => (
                  <tr data-token={t.id}>
                    <td>
                      {t.name}
                      {t.current ? ' (this session)' : ''}
                    </td>
                    <td>
                      <code>{t.id}</code>
                    </td>
                    <td>{t.createdAt}</td>
                    <td>{t.lastUsedAt ?? 'never'}</td>
                    <td>
                      <form method="post" action={`${BASE}/tokens/revoke`} class="inline">
                        <Csrf csrf={p.ctx.csrf} />
                        <input type="hidden" name="id" value={t.id} />
                        <input type="hidden" name="facility" value={p.ctx.facility} />
                        <button type="submit" class="danger" aria-label={`Revoke ${t.name}`}>
                          Revoke
                        </button>
                      </form>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        </>
      ) : null}
    </Page>
  );
}
