import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@simorgh/source'] },
  ssr: { resolve: { conditions: ['@simorgh/source'] } },
  test: {
    name: 'api',
    include: ['src/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 120_000,
    globalSetup: ['src/test/global-setup.ts'],
  },
});
