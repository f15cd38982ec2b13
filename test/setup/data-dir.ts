/**
 * vitest globalSetup: each test run gets its own data directory (vitest.config.ts sets
 * SRC_DATA_DIR for the tests and SRC_TEST_RUN_DIR here); this removes it when the run ends, and any left by runs that were killed
 * more than a day ago.
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

export default function setup(): () => void {
  const root = '.tmp/test-data';
  try {
    for (const d of readdirSync(root)) {
      const p = join(root, d);
      if (Date.now() - statSync(p).mtimeMs > 86_400_000) rmSync(p, { recursive: true, force: true });
    }
  } catch {
    /* no earlier runs */
  }
  return () => {
    const dir = process.env.SRC_TEST_RUN_DIR;
    if (dir?.startsWith(root + '/run-')) rmSync(dir, { recursive: true, force: true });
  };
}
