import { defineConfig } from 'vitest/config';

export default defineConfig({
  // `@simorgh/source` makes @simorgh/contracts resolve to its TypeScript source, as in the API tests.
  resolve: { conditions: ['@simorgh/source'] },
  ssr: { resolve: { conditions: ['@simorgh/source'] } },
  test: {
    name: 'e2e',
    root: import.meta.dirname,
    include: ['**/*.e2e.test.ts'],
    environment: 'node',
    // One stack and one browser serve the journeys of a file; each journey sets up its own chats.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
