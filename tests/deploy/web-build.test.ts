import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoPath } from './repo.js';

/**
 * The web app nginx serves in production is `vite build` with apps/web/vite.config.ts (the
 * build its Dockerfile runs). Source maps would hand anyone its full source and comments.
 */
describe('the web production build', () => {
  let outDir: string;
  let files: string[];

  beforeAll(() => {
    outDir = mkdtempSync(join(tmpdir(), 'simorgh-web-dist-'));
    const vite = repoPath('apps/web/node_modules/vite/bin/vite.js');
    execFileSync(process.execPath, [vite, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'error'], {
      cwd: repoPath('apps/web'),
      env: { ...process.env, NODE_ENV: 'production' },
      stdio: 'pipe',
    });
    files = readdirSync(outDir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => relative(outDir, join(entry.parentPath, entry.name)));
  }, 180_000);

  afterAll(() => {
    rmSync(outDir, { recursive: true, force: true });
  });

  it('emits no source maps', () => {
    expect(files).toContain('index.html');
    expect(files.some((file) => file.endsWith('.js'))).toBe(true);
    expect(files.filter((file) => file.endsWith('.map'))).toEqual([]);
  });

  it('references no source map from index.html, scripts or styles', () => {
    const texts = files.filter((file) => /\.(html|js|css)$/.test(file));
    const referencing = texts.filter((file) => /sourceMappingURL/.test(readFileSync(join(outDir, file), 'utf8')));
    expect(referencing).toEqual([]);
  });
});
