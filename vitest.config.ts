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

/**
 * The unit lane: every test file that needs no Docker Engine (pure code, the database, the
 * in-process app on routes that answer without the Engine). `npm run test:unit` runs it alone;
 * `npm test` runs it first with DOCKER_HOST on a closed socket, which proves it. A file that
 * needs the Engine for some of its tests stays in the engine lane, or is split in two.
 */
const UNIT = [
  'test/core/**/*.test.ts',
  // not cli-parity.test.ts: it compares with the docker CLI on the real Engine
  'test/format/{containers,images,nodes,stats,units}.test.ts',
  'test/outline.test.ts',
  'test/images-migration.test.ts',
  'test/runner-limits.test.ts',
  'test/openapi.test.ts',
  'test/openapi-store.test.ts',
  'test/docs-page.test.ts',
];

export default defineConfig({
  test: {
    // include is the projects' (arrays of `extends: true` projects are added to the root's)
    exclude: ['**/node_modules/**', 'dist/**', 'data/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // removes this run's data directory when the run ends
    globalSetup: ['test/setup/data-dir.ts'],
    env: {
      SRC_CONFIG: 'test/fixtures/config.json',
      SRC_DATA_DIR: dataDir,
      // request log lines (JSON, one per request) only from tests that capture them
      SRC_LOG_LEVEL: 'warning',
      // the admin token of this test run, random each run (test/helpers.ts sends it by default)
      SRC_ADMIN_TOKEN: randomToken(),
    },
    // both lanes inherit the settings above (`extends: true`); every test file is in exactly one
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT } },
      // the rest: the real Engine (test images from scripts/build-test-images.sh), private Engines, swarm labs
      { extends: true, test: { name: 'engine', include: ['test/**/*.test.ts'], exclude: UNIT } },
    ],
  },
});
