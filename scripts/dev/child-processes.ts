import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

export type AppProcess = { name: string; child: ChildProcess; exited: Promise<number | null> };

/**
 * Starts a long-running command in its own process group, so stopping it also stops what it
 * started (pnpm -> tsx watch -> node), and prefixes its output with its name.
 */
export function startAppProcess(name: string, command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): AppProcess {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...options.env, ...(process.stdout.isTTY ? { FORCE_COLOR: '1' } : {}) },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const label = `[${name}]`.padEnd(6);
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => process.stdout.write(`${label} ${line}\n`));
  }
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', (error) => {
      process.stdout.write(`${label} could not start ${command}: ${error.message}\n`);
      resolve(1);
    });
  });
  return { name, child, exited };
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals | 0): boolean {
  if (child.pid === undefined) return false;
  try {
    process.kill(-child.pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to the whole group, SIGKILL to whatever is left after graceMs. */
export async function stopAppProcess(app: AppProcess, graceMs = 10_000): Promise<void> {
  const deadline = Date.now() + graceMs;
  signalGroup(app.child, 'SIGTERM');
  // Wait for the whole group, not just its leader: the API may still be closing connections.
  while (signalGroup(app.child, 0) && Date.now() < deadline) {
    await sleep(100);
  }
  signalGroup(app.child, 'SIGKILL');
  await app.exited;
}
