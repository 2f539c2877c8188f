import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contextSources, parseDockerfile, type Stage } from './dockerfile.js';
import { readRepoFile, repoPath } from './repo.js';

/**
 * The production image holds the compiled API and contracts. The dev stack (`@simorgh/devstack`:
 * service starters, the OpenAI-compatible test model, demo data with the demo password) must
 * never be in it: these tests compile the API the way its Dockerfile does and look for it.
 */
const DEVSTACK_SRC = repoPath('packages/devstack/src');
const DEMO_PASSWORD = 'simorgh-demo';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

const devstackModules = filesUnder(DEVSTACK_SRC)
  .map((file) => basename(file, '.ts'))
  .filter((name) => name !== 'index');

/** Names the dev stack exports (functions, constants, types), read from its sources. */
const devstackExports = [
  ...new Set(
    filesUnder(DEVSTACK_SRC).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/^export (?:async )?(?:function\*?|const|let|class|type|interface) (\w+)/gm)].map((match) => match[1] ?? ''),
    ),
  ),
];

/** Every trace of the dev stack in the files under `dir`, as "file: what". */
function devstackTraces(dir: string): string[] {
  const declaration = new RegExp(`\\b(?:function\\*?|const|let|var|class|type|interface)\\s+(${devstackExports.join('|')})\\b`, 'g');
  const traces: string[] = [];
  for (const file of filesUnder(dir)) {
    const path = relative(dir, file);
    const module = path.split(/[/\\]/).find((part) => devstackModules.includes(part.replace(/(\.d)?\.(ts|js)(\.map)?$/, '')));
    if (module) traces.push(`${path}: dev-stack module ${module}`);
    if (/local-stack|devstack/.test(path)) traces.push(`${path}: dev-stack folder`);
    const text = readFileSync(file, 'utf8');
    if (text.includes(DEMO_PASSWORD)) traces.push(`${path}: the demo password`);
    if (/@simorgh\/devstack|local-stack/.test(text)) traces.push(`${path}: imports the dev stack`);
    for (const match of text.matchAll(declaration)) traces.push(`${path}: declares ${match[1]}`);
  }
  return traces;
}

function dockerStages(): Stage[] {
  return parseDockerfile(readRepoFile('apps/api/Dockerfile'));
}

/** The compile command of the API's `build` script, which the Dockerfile's build stage runs. */
function apiBuildConfig(): string {
  const build = (JSON.parse(readRepoFile('apps/api/package.json')) as { scripts: { build: string } }).scripts.build;
  const config = /^tsc -p (\S+)$/.exec(build)?.[1];
  if (!config) throw new Error(`apps/api "build" is "${build}"; this test compiles "tsc -p <config>" only`);
  return config;
}

describe('the API production build', () => {
  let outDir: string;
  let contractsOutDir: string;

  beforeAll(() => {
    outDir = mkdtempSync(join(tmpdir(), 'simorgh-api-dist-'));
    contractsOutDir = mkdtempSync(join(tmpdir(), 'simorgh-contracts-dist-'));
    const tsc = repoPath('node_modules/typescript/bin/tsc');
    execFileSync(process.execPath, [tsc, '-p', apiBuildConfig(), '--outDir', outDir], { cwd: repoPath('apps/api'), stdio: 'pipe' });
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', contractsOutDir], {
      cwd: repoPath('packages/contracts'),
      stdio: 'pipe',
    });
  }, 120_000);

  afterAll(() => {
    rmSync(outDir, { recursive: true, force: true });
    rmSync(contractsOutDir, { recursive: true, force: true });
  });

  it('is the build the Dockerfile runs', () => {
    const runs = dockerStages().flatMap((stage) => stage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args));
    expect(runs).toContain('pnpm --filter "@simorgh/api..." run build');
  });

  it('recognises the dev stack in its own sources (so the checks below can fail)', () => {
    const traces = devstackTraces(DEVSTACK_SRC);
    expect(devstackModules).toEqual(expect.arrayContaining(['fake-llm', 'tpms-schema', 'redis-server', 'mariadb-server']));
    expect(traces.some((trace) => trace.includes('the demo password'))).toBe(true);
    expect(traces.some((trace) => trace.includes('declares startFakeLlm'))).toBe(true);
  });

  it('compiles the server and contains no dev-stack code, file or demo password', () => {
    expect(filesUnder(outDir).map((file) => relative(outDir, file))).toContain('server.js');
    expect(devstackTraces(outDir)).toEqual([]);
  });

  it('compiles contracts that contain no dev-stack code, file or demo password', () => {
    expect(filesUnder(contractsOutDir).map((file) => relative(contractsOutDir, file))).toContain('index.js');
    expect(devstackTraces(contractsOutDir)).toEqual([]);
  });
});

describe('apps/api/Dockerfile and the dev stack', () => {
  it('copies the dev stack manifest at most, never its sources', () => {
    for (const stage of dockerStages()) {
      for (const source of stage.instructions.flatMap(contextSources)) {
        if (source.startsWith('packages/devstack')) expect(source).toBe('packages/devstack/package.json');
      }
    }
  });

  it('puts nothing of the dev stack into the runtime image', () => {
    const runtime = dockerStages().at(-1);
    const copies = runtime?.instructions.filter((i) => i.keyword === 'COPY').map((i) => i.args) ?? [];
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) expect(copy).not.toMatch(/devstack|local-stack|\/repo\/packages\/(?!contracts\/)/);
  });

  it('keeps the dev stack out of the API production dependencies', () => {
    const manifest = JSON.parse(readRepoFile('apps/api/package.json')) as { dependencies: Record<string, string> };
    expect(Object.keys(manifest.dependencies)).not.toContain('@simorgh/devstack');
  });
});
