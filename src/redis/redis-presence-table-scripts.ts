/**
 * The Lua scripts of the Redis presence table (redis-presence-table.ts). Each takes exactly one key, a
 * bucket hash, so it runs on one slot of a Redis Cluster. They know only two things of a record
 * (device-record-codec.ts): bit 0 of its first byte is the online flag, and bytes 2..7 (Lua counts
 * from 1) are its evidence time; the channel rule itself lives in TypeScript alone.
 *
 * A bucket hash: field = Client ID, value = record; field '#' = how many records are online (a
 * Client ID never is '#').
 */

/**
 * The records of a batch of devices, one per key: KEYS[i] is the bucket of the Client ID ARGV[i].
 * Parallel to them, each record or false (none). On a Redis Cluster every key of one call is of one slot.
 */
export const READ_MANY = `
local held = {}
for i = 1, #KEYS do held[i] = redis.call('HGET', KEYS[i], ARGV[i]) end
return held
`;

/**
 * Compare-and-set of a batch of records, each with its bucket's online count. KEYS[i] is device i's
 * bucket; ARGV holds per device its Client ID, the record read before (empty when there was none)
 * and the new record. Parallel to the devices: 1 when written; when another writer got there first,
 * the record it holds now (empty: none), from which the caller recomputes without reading again.
 * Each device's compare-and-set is atomic (the whole script is).
 */
export const COMPARE_AND_SET_MANY = `
local out = {}
for i = 1, #KEYS do
  local key, id, expected, record = KEYS[i], ARGV[3 * i - 2], ARGV[3 * i - 1], ARGV[3 * i]
  local held = redis.call('HGET', key, id)
  if (held or '') ~= expected then
    out[i] = held or ''
  else
    redis.call('HSET', key, id, record)
    local was = 0
    if held then was = string.byte(held, 1) % 2 end
    local now = string.byte(record, 1) % 2
    if now ~= was then redis.call('HINCRBY', key, '#', now - was) end
    out[i] = 1
  end
end
return out
`;

/** {online, known} of one bucket. */
export const COUNT = `
local known = redis.call('HLEN', KEYS[1])
local online = redis.call('HGET', KEYS[1], '#')
if online then return {tonumber(online), known - 1} end
return {0, known}
`;

/**
 * Up to ARGV[2] online Client IDs of one bucket, sorted, greater than ARGV[1] (empty: from the start).
 * A bucket holds a few hundred devices at most, so sorting them here is cheap, and an empty one costs one HGET.
 */
export const LIST_ONLINE = `
local online = redis.call('HGET', KEYS[1], '#')
if not online or tonumber(online) <= 0 then return {} end
local all = redis.call('HGETALL', KEYS[1])
local ids = {}
for i = 1, #all, 2 do
  local id = all[i]
  if id ~= '#' and string.byte(all[i + 1], 1) % 2 == 1 and id > ARGV[1] then ids[#ids + 1] = id end
end
table.sort(ids)
local page = {}
for i = 1, math.min(tonumber(ARGV[2]), #ids) do page[i] = ids[i] end
return page
`;

/**
 * Up to ARGV[2] records of one bucket whose evidence is at or before ARGV[1], oldest first, as a flat
 * list of Client ID, evidence (ms, as text). Lua numbers are doubles: 48-bit times are exact.
 */
export const LEAST_RECENTLY_VERIFIED = `
local quiet = tonumber(ARGV[1])
local all = redis.call('HGETALL', KEYS[1])
local found = {}
for i = 1, #all, 2 do
  if all[i] ~= '#' then
    local b1, b2, b3, b4, b5, b6 = string.byte(all[i + 1], 2, 7)
    local at = ((((b1 * 256 + b2) * 256 + b3) * 256 + b4) * 256 + b5) * 256 + b6
    if at <= quiet then found[#found + 1] = {at, all[i]} end
  end
end
table.sort(found, function(a, b) return a[1] < b[1] or (a[1] == b[1] and a[2] < b[2]) end)
local out = {}
for i = 1, math.min(tonumber(ARGV[2]), #found) do
  out[#out + 1] = found[i][2]
  out[#out + 1] = string.format('%.0f', found[i][1])
end
return out
`;
