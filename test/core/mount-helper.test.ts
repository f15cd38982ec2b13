/**
 * The mount-source helper's script (core/mount-sources.ts), run by the host's busybox with
 * `/parent` pointed at a temporary directory: swarm runs it on every node at once, and nodes
 * that share a filesystem (NFS homes, the swarm lab) race to make the same directory.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { helperScript } from '../../core/mount-sources.ts';

const run = promisify(execFile);
const BUSYBOX = '/bin/busybox';
const root = mkdtempSync(join(tmpdir(), 'src-mount-helper-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs the script with `/parent` replaced by `parent`; resolves to its exit code. */
async function runScript(parent: string, name: string, owner: string): Promise<number> {
  const script = helperScript(name, owner).replaceAll('/parent/', `${parent}/`);
  try {
    await run(BUSYBOX, ['sh', '-c', script]);
    return 0;
  } catch (e) {
    return (e as { code: number }).code;
  }
}

describe.runIf(existsSync(BUSYBOX) && process.getuid?.() === 0)('mount-source helper script', () => {
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
    const afterCheck = script.replace(check, '').replaceAll('/parent/', `${parent}/`);
    await expect(run(BUSYBOX, ['sh', '-c', afterCheck])).resolves.toBeDefined();
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
    await run(BUSYBOX, ['touch', join(parent, 'carol')]);
    // `[ -e ]` is true for the file: the helper leaves it, and the Engine's bind then refuses
    expect(await runScript(parent, 'carol', '54011:54012')).toBe(0);
  });
});
