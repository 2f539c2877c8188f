import '@testing-library/jest-dom/vitest';
import { cleanup, configure } from '@testing-library/react';
import { format } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, expect, vi } from 'vitest';
import { signOut } from '../api/auth-store';
import { resetRecordedRequests } from './route-handlers';
import { server } from './server';

// Generous for a busy CI machine; passing tests never wait this long.
configure({ asyncUtilTimeout: 3000 });

/** Any console.error (React warnings, act() complaints, uncaught render errors) fails the test. */
let consoleErrors: string[] = [];

// A request no handler answers fails with a network error, and MSW's console.error about it
// fails the test.
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));

beforeEach(() => {
  consoleErrors = [];
  resetRecordedRequests();
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    consoleErrors.push(format(...args));
  });
});

afterEach(() => {
  cleanup();
  server.resetHandlers();
  signOut();
  sessionStorage.clear();
  vi.useRealTimers();
  expect(consoleErrors, 'console.error was called').toEqual([]);
});

afterAll(() => {
  server.close();
});
