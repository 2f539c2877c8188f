import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TPMS } from '@simorgh/devstack';
import { manualClock } from './test/harness.js';
import { startServedStack, type ServedStack } from './test/served-stack.js';

const run = promisify(execFile);
const README = resolve(import.meta.dirname, '../../../README.md');
const SECTION = '## API by example';

type Example = { command: string; expected: unknown };

/** The sh + json block pairs of the README's "API by example" section, in order. */
function readExamples(): Example[] {
  const text = readFileSync(README, 'utf8');
  const start = text.indexOf(SECTION);
  if (start < 0) throw new Error(`README.md has no "${SECTION}" section`);
  const end = text.indexOf('\n## ', start + SECTION.length);
  const section = text.slice(start, end < 0 ? undefined : end);
  const pairs = section.matchAll(/```sh\n([\s\S]*?)```\s*```json\n([\s\S]*?)```/g);
  return [...pairs].map(([, command, json]) => ({ command: command!.trim(), expected: JSON.parse(json!) }));
}

/**
 * Exact comparison, except that a string written as "<something>" in the README stands for
 * any string (tokens, request IDs, generated titles) and "<number>" for any number.
 */
function matches(expected: unknown, actual: unknown, path = '$'): string | null {
  if (typeof expected === 'string' && /^<[^>]+>$/.test(expected)) {
    const wanted = expected === '<number>' ? 'number' : 'string';
    return typeof actual === wanted ? null : `${path}: expected any ${wanted}, got ${JSON.stringify(actual)}`;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return `${path}: expected ${expected.length} items`;
    for (const [index, item] of expected.entries()) {
      const problem = matches(item, actual[index], `${path}[${index}]`);
      if (problem) return problem;
    }
    return null;
  }
  if (expected && typeof expected === 'object') {
    if (!actual || typeof actual !== 'object') return `${path}: expected an object`;
    const wantedKeys = Object.keys(expected).sort();
    const actualKeys = Object.keys(actual).sort();
    if (wantedKeys.join() !== actualKeys.join()) return `${path}: keys ${actualKeys.join()} instead of ${wantedKeys.join()}`;
    for (const key of wantedKeys) {
      const problem = matches((expected as Record<string, unknown>)[key], (actual as Record<string, unknown>)[key], `${path}.${key}`);
      if (problem) return problem;
    }
    return null;
  }
  return expected === actual ? null : `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
}

describe('the README API examples', () => {
  let stack: ServedStack;

  beforeAll(async () => {
    stack = await startServedStack({
      tpms: DEMO_TPMS,
      model: { titleReply: 'Relief Valve Sizing for Crude Tanks' },
      clock: manualClock('2026-11-24T09:30:00.000Z'),
    });
  });

  afterAll(() => stack?.stop());

  it('answer exactly as documented, run with curl in order', async () => {
    const examples = readExamples();
    expect(examples.length).toBeGreaterThanOrEqual(8);
    let token = '';
    for (const example of examples) {
      const { stdout } = await run('bash', ['-c', example.command], {
        env: { PATH: process.env.PATH, API: stack.url, TOKEN: token },
        timeout: 15_000,
      });
      const actual: unknown = JSON.parse(stdout);
      const problem = matches(example.expected, actual);
      expect(problem, `${example.command}\n→ ${stdout}`).toBeNull();
      const accessToken = (actual as { access_token?: unknown }).access_token;
      if (typeof accessToken === 'string') token = accessToken;
    }
  });
});
