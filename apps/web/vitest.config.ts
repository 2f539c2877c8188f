import { defaultClientConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// No React plugin here: vitest brings its own Vite, whose built-in transform handles TSX with the
// automatic JSX runtime. Fast refresh, the plugin's only other job, has no use in tests.
export default defineConfig({
  resolve: { conditions: ['@simorgh/source', ...defaultClientConditions] },
  test: {
    name: 'web',
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test/setup.ts'],
    restoreMocks: true,
  },
});
