import { defineConfig } from 'vitest/config';
import { randomBytes } from 'node:crypto';

/** A token in the API's format (`src_<12 [a-z0-9]>_<43 base64url>`), new for each test run. */
function randomToken(): string {
  const id = Array.from(randomBytes(12), (b) => 'abcdefghijklmnopqrstuvwxyz0123456789'[b % 36]).join('');
  return `src_${id}_${randomBytes(32).toString('base64url')}`;
}

/** This run's own data directory (database, admin token file): runs never share state. */
const dataDir = `.tmp/test-data/run-${Date.now()}-${randomBytes(3).toString('hex')}`;
process.env.SRC_TEST_RUN_DIR = dataDir; // for test/setup/data-dir.ts (runs in this process)

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'dist/**', 'data/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // removes this run's data directory when the run ends
    globalSetup: ['test/setup/data-dir.ts'],
    env: {
      SRC_CONFIG: 'test/fixtures/config.json',
      SRC_DATA_DIR: dataDir,
      // the admin token of this test run, random each run (test/helpers.ts sends it by default)
      SRC_ADMIN_TOKEN: randomToken(),
    },
  },
});
