import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'dist/**', 'data/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    env: {
      SRC_CONFIG: 'test/fixtures/config.json',
      SRC_DATA_DIR: '.tmp/test-data',
      // the admin token of the test suite (test/helpers.ts sends it by default)
      SRC_ADMIN_TOKEN: 'src_testadmin000_' + 'A'.repeat(43),
    },
  },
});
