import { describe, expect, it } from 'vitest';
import { contextSources, parseDockerfile, type Stage } from './dockerfile.js';
import { pinnedPnpmVersion, readRepoFile, repoFileExists } from './repo.js';

const DOCKERFILES = ['apps/api/Dockerfile', 'apps/web/Dockerfile'] as const;

function stagesOf(path: string): Stage[] {
  return parseDockerfile(readRepoFile(path));
}

function finalStage(path: string): Stage {
  const stage = stagesOf(path).at(-1);
  if (!stage) throw new Error(`${path} has no FROM`);
  return stage;
}

function argsOf(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword).map((instruction) => instruction.args);
}

describe.each(DOCKERFILES)('%s', (path) => {
  it('is a multi-stage build on version-pinned base images', () => {
    const stages = stagesOf(path);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const stageNames = new Set(stages.map((stage) => stage.name).filter(Boolean));
    for (const stage of stages) {
      if (stageNames.has(stage.image)) continue;
      expect(stage.image, 'base image needs an explicit version tag').toMatch(/^[\w./-]+:\d[\w.-]*$/);
      expect(stage.image).not.toMatch(/:latest$/);
    }
  });

  it('installs the pnpm version pinned in package.json through corepack', () => {
    const pnpm = pinnedPnpmVersion();
    const runs = stagesOf(path).flatMap((stage) => argsOf(stage, 'RUN'));
    const prepares = runs.filter((run) => run.includes('corepack prepare'));
    expect(prepares.length).toBeGreaterThan(0);
    for (const run of prepares) expect(run).toContain(`corepack prepare pnpm@${pnpm} --activate`);
    expect(runs.some((run) => /pnpm install --frozen-lockfile/.test(run))).toBe(true);
  });

  it('copies only files that exist in the repository and are not ignored', () => {
    const ignored = readRepoFile('.dockerignore');
    const sources = stagesOf(path).flatMap((stage) => stage.instructions.flatMap(contextSources));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(repoFileExists(source), `${source} is COPY'd but missing`).toBe(true);
      expect(source).not.toMatch(/(^|\/)(node_modules|dist|\.env)(\/|$)/);
    }
    expect(ignored).toMatch(/^\*\*\/node_modules$/m);
    expect(ignored).toMatch(/^\.env$/m);
  });

  it('copies from stages that exist', () => {
    const stages = stagesOf(path);
    const names = stages.map((stage) => stage.name);
    for (const [index, stage] of stages.entries()) {
      for (const copy of argsOf(stage, 'COPY')) {
        const from = /--from=(\S+)/.exec(copy)?.[1];
        if (!from) continue;
        expect(names.slice(0, index), `COPY --from=${from}`).toContain(from);
      }
    }
  });
});

describe('apps/api/Dockerfile', () => {
  const path = 'apps/api/Dockerfile';

  it('runs the built API as an unprivileged user', () => {
    const runtime = finalStage(path);
    expect(runtime.image).toMatch(/^node:20[\w.-]*-bookworm-slim$/);
    const users = argsOf(runtime, 'USER');
    expect(users.length).toBe(1);
    expect(users[0]).not.toMatch(/^(root|0)(:|$)/);
    const start = (JSON.parse(readRepoFile('apps/api/package.json')) as { scripts: { start: string } }).scripts.start;
    const cmd = argsOf(runtime, 'CMD');
    expect(cmd.length).toBe(1);
    expect(JSON.parse(cmd[0] ?? '')).toEqual(start.split(' '));
  });

  it('ships the compiled contracts and API next to their production dependencies', () => {
    const copies = argsOf(finalStage(path), 'COPY').join('\n');
    expect(copies).toContain('/repo/packages/contracts/dist');
    expect(copies).toContain('/repo/apps/api/dist');
    expect(copies).toContain('/repo/apps/api/node_modules');
    const prodInstall = stagesOf(path)
      .flatMap((stage) => argsOf(stage, 'RUN'))
      .find((run) => run.includes('--prod'));
    expect(prodInstall).toMatch(/pnpm install --frozen-lockfile --prod --filter "@simorgh\/api\.\.\."/);
  });

  it('exposes port 3000 and checks /api/health', () => {
    const runtime = finalStage(path);
    expect(argsOf(runtime, 'EXPOSE')).toEqual(['3000']);
    const healthcheck = argsOf(runtime, 'HEALTHCHECK');
    expect(healthcheck.length).toBe(1);
    expect(healthcheck[0]).toContain('/api/health');
    expect(healthcheck[0]).toContain('fetch(');
  });
});

describe('apps/web/Dockerfile', () => {
  const path = 'apps/web/Dockerfile';

  it('serves the built web app with the repository nginx.conf', () => {
    const runtime = finalStage(path);
    expect(runtime.image).toMatch(/^nginx:1\.\d+-alpine$/);
    const copies = argsOf(runtime, 'COPY');
    expect(copies).toContain('nginx.conf /etc/nginx/nginx.conf');
    expect(copies.some((copy) => /^--from=\S+ \/repo\/apps\/web\/dist \/usr\/share\/nginx\/html$/.test(copy))).toBe(true);
    expect(readRepoFile('nginx.conf')).toContain('root /usr/share/nginx/html;');
    expect(argsOf(runtime, 'EXPOSE')).toEqual(['80']);
  });
});
