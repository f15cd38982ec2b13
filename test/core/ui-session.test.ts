/**
 * Dashboard sessions (core/ui/session.ts) and how an API answer becomes a message
 * (core/ui/app.tsx `outcome`): no Engine.
 */
import { describe, expect, it } from 'vitest';
import { mintToken, revokeToken } from '../../core/auth.ts';
import { createSession, endSession, loadSession, setFlash, uiDb } from '../../core/ui/session.ts';
import { outcome } from '../../core/ui/app.tsx';
import type { ApiAnswer } from '../../core/ui/api.ts';

describe('sessions', () => {
  it('keep the token sealed: the database holds neither the cookie value nor the token', async () => {
    const { token, record } = await mintToken({ role: 'user', user: 'sessalice', name: 'session test' });
    const { id } = await createSession({ token, record, source: 'token' });
    const s = await loadSession(id);
    expect(s).toMatchObject({ token, record: { id: record.id, user: 'sessalice' }, source: 'token', flash: [] });
    const dump = JSON.stringify((await (await uiDb()).execute('SELECT * FROM ui_sessions')).rows);
    expect(dump).not.toContain(token);
    expect(dump).not.toContain(token.slice('src_'.length + 13)); // the secret (base64url: it may contain '_')
    expect(dump).not.toContain(id);
  });

  it('refuse a malformed, unknown or tampered id', async () => {
    const { token, record } = await mintToken({ role: 'user', user: 'sessbob', name: 'session test' });
    const { id } = await createSession({ token, record, source: 'token' });
    expect(await loadSession(undefined)).toBeNull();
    expect(await loadSession('short')).toBeNull();
    const other = id.slice(0, -1) + (id.endsWith('A') ? 'B' : 'A');
    expect(await loadSession(other)).toBeNull();
    expect(await loadSession(id)).not.toBeNull();
  });

  it('end with their token (revoked) and at sign-out; carry a one-shot flash', async () => {
    const { token, record } = await mintToken({ role: 'user', user: 'sesscarol', name: 'session test' });
    const a = await createSession({ token, record, source: 'token' });
    const b = await createSession({ token, record, source: 'token' });
    await setFlash(a.id, [{ kind: 'error', text: 'boom', items: ['x: y'] }]);
    expect((await loadSession(a.id))?.flash).toEqual([{ kind: 'error', text: 'boom', items: ['x: y'] }]);
    await endSession(b.id);
    expect(await loadSession(b.id)).toBeNull();
    await revokeToken(record.id);
    expect(await loadSession(a.id)).toBeNull();
  });
});

describe('outcome: success only for a 2xx without failed items', () => {
  const answer = (status: number, body: unknown, problem?: ApiAnswer['problem']): ApiAnswer => ({ status, ok: status < 300 && status !== 207, body, problem, headers: new Headers() });
  it('200 is success', () => {
    expect(outcome(answer(200, {}), 'done')).toEqual({ kind: 'ok', text: 'done' });
  });
  it('207 lists each failure', () => {
    const f = outcome(
      answer(207, [
        { name: 'a--x', state: 'running' },
        { name: 'b--x', error: { detail: 'App b--x not found' } },
      ]),
      'done',
    );
    expect(f).toEqual({ kind: 'error', text: '1 of 2 failed', items: ['b--x: App b--x not found'] });
  });
  it('a problem shows its detail, status and code', () => {
    const f = outcome(answer(403, null, { code: 'forbidden', detail: "App 'a--x' does not belong to user 'y'" }), 'done');
    expect(f.kind).toBe('error');
    expect(f.text).toBe("App 'a--x' does not belong to user 'y' (403 forbidden)");
  });
});
