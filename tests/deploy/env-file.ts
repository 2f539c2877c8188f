/** Variables of a dotenv file: `set` are active assignments, `documented` also counts `# NAME=` lines. */
export function parseEnvExample(text: string): { set: Map<string, string>; documented: Set<string> } {
  const set = new Map<string, string>();
  const documented = new Set<string>();
  for (const line of text.split(/\r?\n/)) {
    const active = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (active?.[1] !== undefined && active[2] !== undefined) {
      set.set(active[1], active[2]);
      documented.add(active[1]);
      continue;
    }
    const commented = /^#\s*([A-Z][A-Z0-9_]*)=/.exec(line);
    if (commented?.[1]) documented.add(commented[1]);
  }
  return { set, documented };
}
