/**
 * The dashboard's session cookie (core/ui/app.tsx): `__Host-src_ui` under https (no other host,
 * e.g. an app under the same parent domain, can set it), `src_ui` on /ui over plain http. No Engine.
 */
import { describe, expect, it } from 'vitest';
import { mintToken } from '../../core/auth.ts';
import { buildUi } from '../../core/ui/app.tsx';

const ui = buildUi();

async function signIn(proto: 'http' | 'https'): Promise<string> {
  const { token } = await mintToken({ role: 'user', user: `cookie${proto}`, name: 'ui cookie test' });
  const res = await ui.request('http://dash.example.org/ui/sign-in', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-proto': proto, host: 'dash.example.org' },
    body: new URLSearchParams({ token }),
  });
  expect(res.status).toBe(303);
  return res.headers.get('set-cookie') ?? '';
}

const home = (proto: string, cookie: string) => ui.request('http://dash.example.org/ui/', { headers: { 'x-forwarded-proto': proto, cookie } });

describe('dashboard session cookie', () => {
  it('under https: __Host-src_ui, Secure, Path=/; a plain src_ui cookie (planted by a sibling host) signs nobody in', async () => {
    const set = await signIn('https');
    expect(set).toMatch(/^__Host-src_ui=[A-Za-z0-9_-]{43}; /);
    expect(set).toMatch(/; Path=\/(;|$)/);
    expect(set).toMatch(/; Secure/);
    expect(set).toMatch(/; HttpOnly/);
    expect(set).toMatch(/; SameSite=Strict/);
    expect(set).not.toMatch(/Domain=/i);
    const id = set.split(';')[0].split('=')[1];
    expect((await home('https', `__Host-src_ui=${id}`)).headers.get('location')).toMatch(/\/apps$/);
    expect((await home('https', `src_ui=${id}`)).headers.get('location')).toBeNull(); // the sign-in page
  });

  it('over http: src_ui on /ui', async () => {
    const set = await signIn('http');
    expect(set).toMatch(/^src_ui=[A-Za-z0-9_-]{43}; /);
    expect(set).toMatch(/; Path=\/ui(;|$)/);
    expect(set).not.toMatch(/Secure/);
    const id = set.split(';')[0].split('=')[1];
    expect((await home('http', `src_ui=${id}`)).headers.get('location')).toMatch(/\/apps$/);
  });
});
