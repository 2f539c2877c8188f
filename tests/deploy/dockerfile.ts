/** Just enough of a Dockerfile parser for static checks: instructions grouped by stage. */
export type Instruction = { keyword: string; args: string };
export type Stage = { image: string; name: string | undefined; instructions: Instruction[] };

export function parseDockerfile(text: string): Stage[] {
  const logical = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of logical) {
    const match = /^(\w+)\s+(.*)$/.exec(line);
    if (!match?.[1] || match[2] === undefined) continue;
    const keyword = match[1].toUpperCase();
    const args = match[2].trim();
    if (keyword === 'FROM') {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ image: from?.[1] ?? args, name: from?.[2], instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`instruction before FROM: ${line}`);
    stage.instructions.push({ keyword, args });
  }
  return stages;
}

/** Source paths of a COPY from the build context (`COPY --from=...` copies from a stage instead). */
export function contextSources(instruction: Instruction): string[] {
  if (instruction.keyword !== 'COPY' || /--from=/.test(instruction.args)) return [];
  const words = instruction.args.split(/\s+/).filter((word) => !word.startsWith('--'));
  return words.slice(0, -1);
}
