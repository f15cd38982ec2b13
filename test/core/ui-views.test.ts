/**
 * The dashboard's table captions (core/ui/views.tsx, core/ui/views-admin.tsx) rendered to HTML:
 * a count of one takes the singular ("1 node", not "1 nodes"); the Open button only where
 * open-app would let the token in (admins: `gateway.admins`). No Engine.
 */
import { describe, expect, it } from 'vitest';
import { counted, type PageCtx } from '../../core/ui/layout.tsx';
import { AppView, AppsView, type PsRow } from '../../core/ui/views.tsx';
import { adminsMayOpen } from '../../core/gateway/access.ts';
import { AuditView, NodesView } from '../../core/ui/views-admin.tsx';

const ctx: PageCtx = { facility: 'demo', facilities: ['demo'], role: 'admin', user: null, tokenName: 'views test', mayOpen: true, csrf: 'x', flash: [] };

/** The text of the page's first `<caption>`. */
async function caption(view: unknown): Promise<string> {
  const html = String(await view);
  const m = /<caption[^>]*>([^<]*)<\/caption>/.exec(html);
  if (!m) throw new Error(`no caption in ${html.slice(0, 200)}`);
  return m[1];
}

const node = { Hostname: 'vm', Status: 'Ready', Availability: 'Active', ManagerStatus: '', EngineVersion: '20.10' };
const app = (n: string): PsRow => ({ Names: `busybox--${n}`, Image: 'src-test/busybox', State: 'running', Status: 'Up', CreatedAt: '', RunningFor: '' });

describe('dashboard captions', () => {
  it('counted: singular for exactly one, the given or default plural otherwise', () => {
    expect(counted(1, 'node')).toBe('1 node');
    expect(counted(0, 'node')).toBe('0 nodes');
    expect(counted(2, 'entry', 'entries')).toBe('2 entries');
    expect(counted(1, 'entry', 'entries')).toBe('1 entry');
  });

  it('nodes, audit entries and apps: "1 node", "1 entry", "1 app"; plurals above one', async () => {
    expect(await caption(NodesView({ ctx, rows: [node] }))).toBe('1 node');
    expect(await caption(NodesView({ ctx, rows: [node, { ...node, Hostname: 'vm2' }] }))).toBe('2 nodes');
    expect(await caption(AuditView({ ctx, rows: [{ at: '2026-12-05T00:00:00Z', route: 'start-app' }], filter: {} }))).toBe('1 entry, newest first');
    expect(await caption(AuditView({ ctx, rows: [], filter: {} }))).toBe('0 entries, newest first');
    const apps = (rows: PsRow[]) => AppsView({ ctx, rows, uptime: {}, urls: {}, approved: [] });
    expect(await caption(apps([app('a')]))).toBe('1 app; CPU and memory update every few seconds');
    expect(await caption(apps([app('a'), app('b')]))).toBe('2 apps; CPU and memory update every few seconds');
  });
});

describe('dashboard Open button', () => {
  const rows = [app('a'), { ...app('b'), State: 'exited' }];
  const page = async (mayOpen: boolean) => String(await AppsView({ ctx: { ...ctx, mayOpen }, rows, uptime: {}, urls: {}, approved: [] }));
  const one = async (mayOpen: boolean) => String(await AppView({ ctx: { ...ctx, mayOpen }, name: 'busybox--a', row: app('a'), info: null, uptime: null, duration: 'day' }));

  it('shows Open on running apps when the token may open them', async () => {
    const html = await page(true);
    expect(html).toContain('aria-label="Open busybox--a"');
    expect(html).not.toContain('Open busybox--b'); // not running
    expect(await one(true)).toContain('/ui/demo/open?name=busybox--a');
  });

  it('shows no Open where open-app would answer 403 (an admin, gateway.admins off)', async () => {
    expect(adminsMayOpen('demo')).toBe(false); // the test configuration leaves gateway.admins off
    const html = await page(false);
    expect(html).not.toContain('/open?name=');
    expect(html).toContain('its user opens it');
    expect(await one(false)).not.toContain('/open?name=');
  });
});

describe('dashboard document', () => {
  it('names an empty icon, so a browser does not ask for /favicon.ico (a 404 on a first visit)', async () => {
    const { Document } = await import('../../core/ui/layout.tsx');
    const html = String(await Document({ title: 'Apps', children: '' }));
    expect(html).toContain('<link rel="icon" href="data:,"/>');
  });
});
