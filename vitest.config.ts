import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['packages/contracts', 'apps/api', 'apps/web', 'apps/web/e2e', 'tests/deploy'],
    reporters: ['default', './scripts/summary-reporter.ts'],
  },
});
