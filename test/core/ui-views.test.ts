/**
 * The dashboard's table captions (core/ui/views.tsx, core/ui/views-admin.tsx) rendered to HTML:
 * a count of one takes the singular ("1 node", not "1 nodes"). No Engine.
 */
import { describe, expect, it } from 'vitest';
import { counted, type PageCtx } from '../../core/ui/layout.tsx';
import { AppsView, type PsRow } from '../../core/ui/views.tsx';
import { AuditView, NodesView } from '../../core/ui/views-admin.tsx';

const ctx: PageCtx = { facility: 'demo', facilities: ['demo'], role: 'admin', user: null, tokenName: 'views test', csrf: 'x', flash: [] };

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
