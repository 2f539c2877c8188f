import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorBodySchema } from '@simorgh/contracts';
import { startNginx, type NginxServer } from '@simorgh/devstack';
import { send } from './raw-http.js';

describe('nginx and the API metrics', () => {
  const seen: string[] = [];
  const upstream = createServer((req, res) => {
    seen.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'text/plain' }).end('metrics from the API');
  });
  let nginx: NginxServer;

  beforeAll(async () => {
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    nginx = await startNginx({ upstreamPorts: [(upstream.address() as AddressInfo).port], perAddressLimits: true });
  });

  afterAll(async () => {
    await nginx?.stop();
    upstream.closeAllConnections();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  it('answers GET /metrics with 404 and the one error body, with or without a token, and never asks the API', async () => {
    const withAndWithoutToken: Array<Record<string, string>> = [{}, { Authorization: 'Bearer any-token-at-all-0123456789' }];
    for (const headers of withAndWithoutToken) {
      for (const path of ['/metrics', '/metrics?format=prometheus', '/api/../metrics', '/./metrics']) {
        const response = await send(nginx.port, path, { headers });
        expect(response.status, path).toBe(404);
        expect(ErrorBodySchema.parse(JSON.parse(response.body.toString())).code).toBe('not_found');
      }
    }
    // The same upstream does answer what nginx proxies, so an empty list means nginx kept /metrics.
    const proxied = await send(nginx.port, '/api/health');
    expect(proxied.status).toBe(200);
    expect(seen).toEqual(['/api/health']);
  });
});
