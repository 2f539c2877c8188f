/**
 * Lua scripts with named keys and arguments. A script declares its key and argument names; a
 * call passes them as objects, and the script reads them as `k.<name>` and `a.<name>` from a
 * preamble generated here (`local k = { meta = KEYS[1], ... }`). Keys still travel as KEYS, in
 * the declared order, so Redis knows which keys a script touches. The preamble only builds two
 * small tables: no JSON to decode on the hot path.
 *
 * Composing: a feature that owns some keys exports Lua functions (fragments) taking those keys
 * and values as parameters, and the names of what they need; a script of another feature
 * includes the fragment and calls it with its own `k`/`a` fields.
 */
import { evalScript, type RedisClient } from './redis.js';

type Value = string | number;

const LUA_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export type RedisScript<K extends string, O extends string, A extends string> = {
  /** The full Lua text, preamble included. */
  readonly source: string;
  /**
   * Runs the script. Optional keys are all given or all left out (the script tests `k.<name>`,
   * which is nil when left out).
   */
  run(client: RedisClient, keys: Record<K, string> & Partial<Record<O, string>>, args: Record<A, Value>): Promise<unknown>;
};

/**
 * `keys` are always passed, `optionalKeys` (after them) may be left out together; `args` are
 * strings or numbers (numbers arrive in Lua as strings, as any ARGV). `lua` is the script body,
 * fragments included. `durable`: see evalScript.
 */
export function defineScript<const K extends string, const O extends string = never, const A extends string = never>(spec: {
  keys: readonly K[];
  optionalKeys?: readonly O[];
  args?: readonly A[];
  lua: string;
  /** Its success is acknowledged to a user (a new chat, a saved message): waits for replicas when required (see requireReplicaAcks). */
  durable?: boolean;
}): RedisScript<K, O, A> {
  const keyNames: readonly string[] = spec.keys;
  const optionalNames: readonly string[] = spec.optionalKeys ?? [];
  const argNames: readonly string[] = spec.args ?? [];
  const all = [...keyNames, ...optionalNames];
  for (const name of [...all, ...argNames]) {
    if (!LUA_NAME.test(name)) throw new Error(`script name ${JSON.stringify(name)} is not a Lua identifier`);
  }
  if (new Set(all).size !== all.length || new Set(argNames).size !== argNames.length) throw new Error('script names must be unique');
  const table = (names: readonly string[], array: string) => `{ ${names.map((name, index) => `${name} = ${array}[${index + 1}]`).join(', ')} }`;
  const source = `local k = ${table(all, 'KEYS')}\nlocal a = ${table(argNames, 'ARGV')}\n${spec.lua}`;

  return {
    source,
    run(client, keys, args) {
      const named = keys as Record<string, string | undefined>;
      const keyList: string[] = [];
      for (const name of keyNames) {
        const key = named[name];
        if (key === undefined) throw new Error(`script key ${name} is missing`);
        keyList.push(key);
      }
      if (optionalNames.length > 0 && named[optionalNames[0] as string] !== undefined) {
        for (const name of optionalNames) {
          const key = named[name];
          if (key === undefined) throw new Error(`optional script key ${name} is missing while others are given`);
          keyList.push(key);
        }
      }
      const values = args as Record<string, Value>;
      const argList: string[] = [];
      for (const name of argNames) argList.push(String(values[name]));
      return evalScript(client, source, keyList, argList, spec.durable === true);
    },
  };
}
