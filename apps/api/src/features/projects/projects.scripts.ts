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
const CACHED_PERMISSIONS_LUA = `
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

/**
 * Lua for a script of another feature that asks which of a set of candidate projects one user
 * has permission on, and remembers the answer for that user (run with the cache DB selected).
 * `version` names the candidate set: the caller changes it whenever a project joins the set.
 *   remembered_permitted(memo_key, version)   the allowed projects joined by ',' when the memo
 *                                             was made for `version`; nil otherwise
 *   permitted_among(projects, prefix, suffix, memo_key, version, max_ms)
 *                                             `allowed, unknown` (denied ones left out; unknown:
 *                                             nothing cached, TPMS must be asked). When nothing is
 *                                             unknown, remembers `allowed` for `version` until the
 *                                             earliest expiry of the cached answers it was read from
 *                                             (at most `max_ms`; the same absolute ms, PEXPIRETIME
 *                                             and PXAT), so it never outlives any of them.
 * The memo (`tpms:permitted:<user>`, tpms-cache.ts) is dropped in the same step as any of the
 * user's cached answers is written or removed, so it says what those answers say at every moment.
 */
export const PERMITTED_MEMO_LUA = `
${CACHED_PERMISSIONS_LUA}
local function remembered_permitted(memo_key, version)
  local memo = redis.call('GET', memo_key)
  if not memo then return nil end
  local head = version .. '|'
  if string.sub(memo, 1, #head) ~= head then return nil end
  return string.sub(memo, #head + 1)
end
local function permitted_among(projects, prefix, suffix, memo_key, version, max_ms)
  local answers = cached_permissions(projects, prefix, suffix)
  local allowed, unknown = {}, {}
  for i, project in ipairs(projects) do
    if answers[i] == '1' then
      allowed[#allowed + 1] = project
    elseif not answers[i] then
      unknown[#unknown + 1] = project
    end
  end
  if #unknown == 0 then
    -- Absolute times: a TTL read at the script's start and set later would outlive the answer by the script's run.
    local now = redis.call('TIME')
    local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
    local at = now_ms + tonumber(max_ms)
    for _, project in ipairs(projects) do
      local expires = redis.call('PEXPIRETIME', prefix .. project .. suffix)
      if expires >= 0 and expires < at then at = expires end
    end
    if at > now_ms then redis.call('SET', memo_key, version .. '|' .. table.concat(allowed, ','), 'PXAT', string.format('%.0f', at)) end
  end
  return allowed, unknown
end`;

/** The names under which a script declares and passes what `permitted_among` needs. */
export const PERMITTED_MEMO_KEYS = ['tpmsPermitted'] as const;
export const PERMITTED_MEMO_ARGS = ['tpmsPermPrefix', 'tpmsPermSuffix', 'tpmsPermittedMaxMs'] as const;

/** What `permitted_among` needs for one user: their memo's key, the affixes of their permission keys, the memo's longest life. */
export type PermissionsCheck = {
  keys: Record<(typeof PERMITTED_MEMO_KEYS)[number], string>;
  args: Record<(typeof PERMITTED_MEMO_ARGS)[number], string>;
};
