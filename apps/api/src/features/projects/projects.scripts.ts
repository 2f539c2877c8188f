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

/**
 * Lua for a script of another feature that reads many of one user's cached permissions at once,
 * run with the cache DB selected: `cached_permissions(projects, prefix, suffix)` gives, in order,
 * for each project number in `projects`, '1' (allowed), '0' (denied) or false (nothing cached:
 * TPMS must be asked). The keys are `prefix .. project .. suffix` (see `permissionsCheck`), read
 * with MGET a thousand at a time (Lua's unpack takes a few thousand values at most).
 */
export const CACHED_PERMISSIONS_LUA = `
local function cached_permissions(projects, prefix, suffix)
  local answers = {}
  for first = 1, #projects, 1000 do
    local keys = {}
    for i = first, math.min(first + 999, #projects) do keys[#keys + 1] = prefix .. projects[i] .. suffix end
    local values = redis.call('MGET', unpack(keys))
    for i = 1, #values do answers[#answers + 1] = values[i] end
  end
  return answers
end`;

/** The arguments under which a script passes what `cached_permissions` needs. */
export const CACHED_PERMISSIONS_ARGS = ['tpmsPermPrefix', 'tpmsPermSuffix'] as const;

/** What `cached_permissions` needs for one user: the affixes of their permission keys. */
export type PermissionsCheck = { args: Record<(typeof CACHED_PERMISSIONS_ARGS)[number], string> };
