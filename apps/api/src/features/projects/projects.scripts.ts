/**
 * What the projects feature lets other features compose into their own scripts: the check of
 * its TPMS cache (the cache's format is tpms-cache.ts's; `accessCheck` there builds the keys and
 * the expected value).
 */

/**
 * Lua for a script of another feature that checks access itself, run with the cache DB
 * selected: `cached_access(project_key, permission_key, expected)` is true when the cache holds
 * exactly `expected` (see `accessCheck`) for the project and "allowed" for the user.
 */
export const CACHED_ACCESS_LUA = `
local function cached_access(project_key, permission_key, expected)
  return redis.call('GET', project_key) == expected and redis.call('GET', permission_key) == '1'
end`;

/** The names under which a script declares what `cached_access` needs (see redis-script.ts). */
export const CACHED_ACCESS_KEYS = ['tpmsProject', 'tpmsPermission'] as const;
export const CACHED_ACCESS_ARGS = ['tpmsExpected'] as const;

/** What `cached_access` needs: its two keys and the cached value that means "found, named so". */
export type AccessCheck = {
  keys: Record<(typeof CACHED_ACCESS_KEYS)[number], string>;
  args: Record<(typeof CACHED_ACCESS_ARGS)[number], string>;
};
