import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

const WEB_ROOT = resolve(import.meta.dirname, '..');
const REPO_ROOT = resolve(WEB_ROOT, '../..');
const DIST = join(WEB_ROOT, 'dist');

const isTestOnly = (name: string) => /\.test\.tsx?$/.test(name) || name === 'test';

/** The newest source file that goes into the web bundle (the app's and the contracts' sources). */
function newestSource(): { path: string; mtimeMs: number } {
  let newest = { path: '', mtimeMs: 0 };
  const visit = (path: string) => {
    const stat = statSync(path);
    if (stat.isDirectory()) {
      for (const name of readdirSync(path)) if (!isTestOnly(name)) visit(join(path, name));
    } else if (stat.mtimeMs > newest.mtimeMs) {
      newest = { path, mtimeMs: stat.mtimeMs };
    }
  };
  for (const path of [
    join(WEB_ROOT, 'src'),
    join(WEB_ROOT, 'index.html'),
    join(WEB_ROOT, 'vite.config.ts'),
    join(REPO_ROOT, 'packages/contracts/src'),
  ]) {
    visit(path);
  }
  return newest;
}

/**
 * A copy of the built web app (apps/web/dist) in a temporary directory that nginx's
 * unprivileged workers can read wherever the repository was cloned. Refuses a missing or stale
 * build: the journeys must exercise the code in the working tree, as `pnpm test` builds it.
 */
export function copyBuiltWebApp(): string {
  const index = join(DIST, 'index.html');
  const rebuild = 'run "pnpm build" (or "pnpm --filter @simorgh/web build") first';
  if (!existsSync(index)) throw new Error(`The web app is not built (${relative(REPO_ROOT, index)} is missing): ${rebuild}.`);
  const source = newestSource();
  if (source.mtimeMs > statSync(index).mtimeMs) {
    throw new Error(`The web app build is older than ${relative(REPO_ROOT, source.path)}: ${rebuild}.`);
  }
  const root = mkdtempSync(join(tmpdir(), 'simorgh-e2e-web-'));
  cpSync(DIST, root, { recursive: true });
  const open = (path: string) => {
    const isDir = statSync(path).isDirectory();
    chmodSync(path, isDir ? 0o755 : 0o644);
    if (isDir) for (const name of readdirSync(path)) open(join(path, name));
  };
  open(root);
  return root;
}
