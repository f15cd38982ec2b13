/**
 * The mount-source helper's script (core/mount-sources.ts), run by the host's `sh` with the
 * host's mkdir/chown/chmod in place of the helper image's busybox and `/parent` pointed at a
 * temporary directory: swarm runs it on every node at once, and nodes that share a filesystem
 * (NFS homes, the swarm lab) race to make the same directory. Runs as root (it chowns to
 * another user), as the test lanes do.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helperScript } from '../../core/mount-sources.ts';

const run = promisify(execFile);
const root = mkdtempSync(join(tmpdir(), 'src-mount-helper-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The helper's script for the host: `/parent` replaced by `parent`, busybox's applets by the host's commands. */
function onHost(script: string, parent: string): string {
  return script.replaceAll('/parent/', `${parent}/`).replaceAll('/bin/busybox ', '');
}

/** Runs the script with `/parent` replaced by `parent`; resolves to its exit code. */
async function runScript(parent: string, name: string, owner: string): Promise<number> {
  const script = onHost(helperScript(name, owner), parent);
  try {
    await run('/bin/sh', ['-c', script]);
    return 0;
  } catch (e) {
    return (e as { code: number }).code;
  }
}

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error('the mount-helper test runs as root: the script chowns to another user');
});

describe('mount-source helper script', () => {
  it('16 copies racing for one directory all succeed, and it ends owned by the user, mode 0750', async () => {
    const parent = join(root, 'race');
    mkdirSync(parent);
    const codes = await Promise.all(Array.from({ length: 16 }, () => runScript(parent, 'alice', '54011:54012')));
    expect(codes).toEqual(Array(16).fill(0));
    const st = statSync(join(parent, 'alice'));
    expect([st.isDirectory(), st.uid, st.gid, st.mode & 0o777]).toEqual([true, 54011, 54012, 0o750]);
  });

  it('a task that lost the race (another made the directory between its check and its mkdir) succeeds and changes nothing', async () => {
    const parent = join(root, 'lost');
    mkdirSync(join(parent, 'dave'), { recursive: true, mode: 0o700 });
    const check = '[ -e "$d" ] && exit 0; ';
    const script = helperScript('dave', '54011:54012');
    expect(script).toContain(check);
    // the state the loser sees: its check is behind it, the directory is there
    const afterCheck = onHost(script.replace(check, ''), parent);
    await expect(run('/bin/sh', ['-c', afterCheck])).resolves.toBeDefined();
    const st = statSync(join(parent, 'dave'));
    expect([st.uid, st.mode & 0o777]).toEqual([0, 0o700]);
  });

  it("never changes an existing directory's owner", async () => {
    const parent = join(root, 'existing');
    mkdirSync(join(parent, 'bob'), { recursive: true, mode: 0o755 });
    expect(await runScript(parent, 'bob', '54011:54012')).toBe(0);
    const st = statSync(join(parent, 'bob'));
    expect([st.uid, st.mode & 0o777]).toEqual([0, 0o755]);
  });

  it('leaves a file of that name alone (the bind of a file onto a directory then fails at create)', async () => {
    const parent = join(root, 'file');
    mkdirSync(parent);
    await run('touch', [join(parent, 'carol')]);
    // `[ -e ]` is true for the file: the helper leaves it, and the Engine's bind then refuses
    expect(await runScript(parent, 'carol', '54011:54012')).toBe(0);
  });
});
