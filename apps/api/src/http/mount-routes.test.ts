import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorBodySchema, routeList } from '@simorgh/contracts';
import { USERS } from '@simorgh/devstack/fixtures';
import { startTestStack, type TestStack } from '../test/harness.js';
import { ENDS_SIGN_IN, sampleRequest, tableRoutes } from '../test/route-samples.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.stop());

const params = { id: 'G-202601-999999', project_number: '10234' };

describe('the route table', () => {
  it('names each route once, by method and path', () => {
    const keys = routeList.map((route) => `${route.method} ${route.path}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('has a handler mounted for every route: none answers "No endpoint"', async () => {
    const admin = await stack.bearer(USERS.admin.username);
    for (const route of tableRoutes()) {
      const { method, path, body } = sampleRequest(route, params);
      let call = stack.http()[method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete'](path).set('Content-Type', 'application/json');
      if (route.access !== 'public') call = call.set('Authorization', ENDS_SIGN_IN.has(route.name) ? await stack.bearer(USERS.admin.username) : admin);
      const res = await call.send(body ?? '');
      const label = `${method} ${path}`;
      expect(res.status, label).toBeLessThan(500);
      if (res.status === 404) expect(ErrorBodySchema.parse(res.body).detail, label).not.toMatch(/^No endpoint/);
    }
  });

  it('guards every route by its access: no token is 401 unless public, a non-admin is 403 on admin routes', async () => {
    const user = await stack.bearer(USERS.sara.username);
    for (const route of tableRoutes()) {
      const { method, path, body } = sampleRequest(route, params);
      const verb = method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete';
      const anonymous = await stack.http()[verb](path).set('Content-Type', 'application/json').send(body ?? '');
      // Sign-in may refuse the sample's wrong password, but never for want of a token.
      const refusedToken = anonymous.status === 401 && anonymous.headers['www-authenticate'] === 'Bearer';
      expect(refusedToken, `${method} ${path}`).toBe(route.access !== 'public');
      if (route.access === 'admin') {
        const res = await stack.http()[verb](path).set('Authorization', user).set('Content-Type', 'application/json').send(body ?? '');
        expect(res.status, `${method} ${path}`).toBe(403);
      }
    }
  });
});
