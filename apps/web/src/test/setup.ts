import '@testing-library/jest-dom/vitest';
import { cleanup, configure } from '@testing-library/react';
import { format } from 'node:util';
import { afterEach, beforeEach, expect, vi } from 'vitest';
import { signOut } from '../api/auth-store';
import { takeUnhandledRequests } from './fetch-mock';

// Generous for a busy CI machine; passing tests never wait this long.
configure({ asyncUtilTimeout: 3000 });

/** Any console.error (React warnings, act() complaints, uncaught render errors) fails the test. */
let consoleErrors: string[] = [];

beforeEach(() => {
  consoleErrors = [];
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    consoleErrors.push(format(...args));
  });
});

afterEach(() => {
  cleanup();
  signOut();
  sessionStorage.clear();
  vi.unstubAllGlobals();
  vi.useRealTimers();
  expect(consoleErrors, 'console.error was called').toEqual([]);
  expect(takeUnhandledRequests(), 'requests no handler answered').toEqual([]);
});
