import react from '@vitejs/plugin-react';
import { defaultClientConditions, defineConfig, type ProxyOptions } from 'vite';

const webPort = Number(process.env.WEB_PORT ?? 5173);
const apiTarget = `http://127.0.0.1:${process.env.API_PORT ?? 3000}`;

// The dev proxy pipes responses through as they arrive (no compression, no buffering), so the
// chat reply stream reaches the browser token by token, as it does through nginx in production.
const apiProxy: Record<string, ProxyOptions> = {
  '/api': {
    target: apiTarget,
    changeOrigin: false,
    configure(proxy) {
      proxy.on('proxyRes', (proxyRes) => {
        if (String(proxyRes.headers['content-type'] ?? '').startsWith('text/event-stream')) {
          proxyRes.headers['cache-control'] = 'no-cache, no-transform';
        }
      });
    },
  },
};

export default defineConfig({
  plugins: [react()],
  // `@simorgh/source` makes @simorgh/contracts resolve to its TypeScript source, so the web app never
  // depends on a stale contracts build.
  resolve: { conditions: ['@simorgh/source', ...defaultClientConditions] },
  server: { port: webPort, strictPort: true, proxy: apiProxy },
  preview: { port: webPort, strictPort: true, proxy: apiProxy },
  build: {
    target: 'es2022',
    // Never in what is deployed: source maps hand anyone the app's full source and comments.
    sourcemap: false,
    rollupOptions: {
      onwarn(warning, warn) {
        // zod ships comments Rollup cannot place; harmless, and not ours to fix.
        if (warning.code === 'INVALID_ANNOTATION' && warning.id?.includes('node_modules')) return;
        warn(warning);
      },
    },
  },
});
