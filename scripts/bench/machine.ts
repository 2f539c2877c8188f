import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

/** One line describing where the figures came from. */
export function describeMachine(): string {
  let model = cpus()[0]?.model ?? 'unknown CPU';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((entry) => entry.startsWith('model name'));
    if (line) model = line.split(':')[1]?.trim() ?? model;
  } catch {
    // not Linux: keep the os module's answer
  }
  const memoryGb = (totalmem() / 2 ** 30).toFixed(0);
  return `${cpus().length} CPU (${model}), ${memoryGb} GB RAM, Node ${process.version}, ${process.platform}`;
}
