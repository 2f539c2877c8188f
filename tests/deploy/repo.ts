import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');

export function repoPath(...parts: string[]): string {
  return join(REPO_ROOT, ...parts);
}

export function readRepoFile(...parts: string[]): string {
  return readFileSync(repoPath(...parts), 'utf8');
}

export function repoFileExists(...parts: string[]): boolean {
  return existsSync(repoPath(...parts));
}

/** The pnpm version pinned by the root package.json `packageManager` field. */
export function pinnedPnpmVersion(): string {
  const manifest = JSON.parse(readRepoFile('package.json')) as { packageManager?: string };
  const match = /^pnpm@(\d+\.\d+\.\d+)/.exec(manifest.packageManager ?? '');
  if (!match?.[1]) throw new Error('package.json must pin pnpm with "packageManager": "pnpm@x.y.z"');
  return match[1];
}
