import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/**
 * Gzipped size of what the first page load fetches: the scripts, module preloads and
 * stylesheets named in index.html (lazy chunks are not counted). Level 5 is what nginx.conf uses.
 */
export function initialBundle(repoRoot: string): { jsKb: number; cssKb: number; files: string[]; built: boolean } {
  const dist = join(repoRoot, 'apps/web/dist');
  let built = false;
  if (!existsSync(join(dist, 'index.html'))) {
    execFileSync('pnpm', ['--filter', '@simorgh/web', 'run', 'build'], { cwd: repoRoot, stdio: 'ignore' });
    built = true;
  }
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const files = [...html.matchAll(/(?:src|href)="\/?(assets\/[^"]+\.(?:js|css))"/g)].map((match) => match[1] as string);
  let js = 0;
  let css = 0;
  for (const file of new Set(files)) {
    const size = gzipSync(readFileSync(join(dist, file)), { level: 5 }).length;
    if (file.endsWith('.js')) js += size;
    else css += size;
  }
  return { jsKb: js / 1024, cssKb: css / 1024, files, built };
}
