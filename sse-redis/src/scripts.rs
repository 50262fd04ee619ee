//! The Lua scripts: each runs atomically in Redis, so an event is numbered and
//! written to all of its streams in one step, and a replay checks what was
//! trimmed and reads in one step.

use std::sync::LazyLock;

use redis::Script;

/// Numbers an event and adds it to the `all` stream and to each topic's.
///
/// The sequence number is the larger of the server's clock in microseconds
/// and one more than the last number given: it always grows, even after Redis
/// was emptied (which lost the counter), so an id is never given twice.
/// Entries carry `p`, the previous sequence number in the same stream, and
/// `l`, the start of the store's lifetime, so that a reader can tell what it
/// missed.
///
/// Every key, and the append key's lifetime, is checked before anything is
/// written, so that an error means nothing was stored (Redis does not undo
/// what a script wrote before an error).
///
/// An append is sent again when Redis did not answer in time (the first may
/// still run, later): each append has its own key (the store's token, or
/// the publish key the caller gave), set to `<seq>:<token>` for a while
/// once stored, so the script run again returns that number instead of
/// storing the event twice. The token (the store's, for this call) tells
/// the store's own attempts apart from an earlier publish under the same
/// publish key.
///
/// Returns `{seq, duplicate}`: `duplicate` is 1 when the key was already
/// stored by another call.
///
/// KEYS: seq, since, all, the append's key, topic streams... ARGV: epoch,
/// maxlen, event, max age in microseconds (0: none), how long the append's
/// key lives in milliseconds, the call's token.
pub(crate) static APPEND: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local done = redis.call('GET', KEYS[4])
if done then
  local first, by = string.match(done, '^(%d+):(.*)$')
  if not first then
    return redis.error_reply('key ' .. KEYS[4] .. ' holds ' .. done .. ', not an append')
  end
  local duplicate = 0
  if by ~= ARGV[6] then duplicate = 1 end
  return {first, duplicate}
end
local lifetime = tonumber(ARGV[5])
if not lifetime or lifetime < 1 or lifetime > 1e15 or lifetime ~= math.floor(lifetime) then
  return redis.error_reply('the append key lifetime ' .. ARGV[5] .. ' is not 1 to 1e15 milliseconds')
end
for i = 3, #KEYS do
  local kind = 'stream'
  if i ~= 4 then kind = redis.call('TYPE', KEYS[i]).ok end
  if kind ~= 'stream' and kind ~= 'none' then
    return redis.error_reply('key ' .. KEYS[i] .. ' holds a ' .. kind .. ', not a stream')
  end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local seq = now
if last >= seq then seq = last + 1 end
local s = string.format('%.0f', seq)
redis.call('SET', KEYS[1], s)
if last == 0 then redis.call('SET', KEYS[2], s) end
local since = redis.call('GET', KEYS[2]) or s
local id = ARGV[1] .. '-' .. s
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], id, 'p', string.format('%.0f', last), 'l', since)
local age = tonumber(ARGV[4])
for i = 5, #KEYS do
  local prev = '0'
  local newest = redis.call('XREVRANGE', KEYS[i], '+', '-', 'COUNT', 1)
  if #newest > 0 then prev = string.match(newest[1][1], '%-(%d+)$') end
  redis.call('XADD', KEYS[i], 'MAXLEN', '~', ARGV[2], id, 'e', ARGV[3], 'p', prev, 'l', since)
  if age > 0 then
    local oldest = math.max(now - age, 0)
    redis.call('XTRIM', KEYS[i], 'MINID', '~', ARGV[1] .. '-' .. string.format('%.0f', oldest))
  end
end
redis.call('SET', KEYS[4], s .. ':' .. ARGV[6], 'PX', ARGV[5])
return {s, 0}
",
    )
});

/// One replay round: the entries of a topic strictly after `after` and before
/// `before`, at most `limit`, and no more than `budget` bytes of events
/// (always at least one entry when there is one; 0: no byte bound), read in
/// small chunks so that Redis never holds much more than the budget in the
/// script. Returns `{complete_through, entries}`: every entry of the range up
/// to `complete_through` is among `entries`.
///
/// `false` when some of the range may be gone:
/// - trimmed: the oldest entry's `p`, the entry trimmed just before it, is
///   past `after` (Redis's own `max-deleted-entry-id` counts only `XDEL`);
/// - deleted (`XDEL`, `max-deleted-entry-id` is past `after`);
/// - a hole in the chain: each entry of the range records its predecessor
///   in the stream (`p`), which must be at most `after` for the first and
///   the previous entry for every other, and the entry after the range must
///   not name a predecessor inside it that is not there;
/// - rolled back: Redis has forgotten sequence numbers it gave (its counter
///   is below `before - 1`, which the hub has read), or a reader recorded a
///   rollback in `holes` (the stream's chain, written again after the
///   rollback, no longer shows it) that overlaps the range;
/// - or from before the store's lifetime (a cursor of 0, from a hub started
///   on an empty store, is before every lifetime: it has missed nothing).
///
/// KEYS: since, topic stream, seq, holes. ARGV: epoch, after, before, limit,
/// budget.
pub(crate) static REPLAY: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local since = redis.call('GET', KEYS[1])
if not since then return false end
local epoch = ARGV[1]
local after = tonumber(ARGV[2])
local before = tonumber(ARGV[3])
local limit = tonumber(ARGV[4])
local budget = tonumber(ARGV[5])
if after > 0 and after < tonumber(since) then return false end
local function seq_of(id) return tonumber(string.match(id, '%-(%d+)$')) end
local function fmt(n) return string.format('%.0f', n) end
local last_end = before - 1
if last_end > after then
  local head = tonumber(redis.call('GET', KEYS[3]) or '0')
  if head < last_end then return false end
  local holes = redis.call('ZRANGEBYSCORE', KEYS[4], '(' .. ARGV[2], '+inf')
  for _, hole in ipairs(holes) do
    local lo = tonumber(string.match(hole, '^(%d+)'))
    if lo < last_end then return false end
  end
end
if redis.call('EXISTS', KEYS[2]) == 0 then return {fmt(math.max(last_end, after)), {}} end
local function prev_of(entry)
  local fields = entry[2]
  local p, size = 0, 0
  for i = 1, #fields, 2 do
    if fields[i] == 'p' then p = tonumber(fields[i + 1])
    elseif fields[i] == 'e' then size = #fields[i + 1] end
  end
  return p, size
end
local oldest = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)[1]
if oldest and prev_of(oldest) > after then return false end
local info = redis.call('XINFO', 'STREAM', KEYS[2])
for i = 1, #info, 2 do
  if info[i] == 'max-deleted-entry-id' then
    if seq_of(info[i + 1]) > after then return false end
  end
end
if last_end <= after then return {fmt(after), {}} end
local stop = epoch .. '-' .. fmt(last_end)
local start = '(' .. epoch .. '-' .. ARGV[2]
local out = {}
local bytes = 0
local last = after
local complete = last_end
local count = 4
while true do
  local want = math.min(count, limit - #out)
  local chunk = redis.call('XRANGE', KEYS[2], start, stop, 'COUNT', want)
  local cut = false
  for _, entry in ipairs(chunk) do
    local seq = seq_of(entry[1])
    local p, size = prev_of(entry)
    if #out == 0 then
      if p > after then return false end
    elseif p ~= last then
      return false
    end
    if #out > 0 and budget > 0 and bytes + size > budget then
      cut = true
      break
    end
    out[#out + 1] = entry
    bytes = bytes + size
    last = seq
    if #out >= limit or (budget > 0 and bytes >= budget) then
      cut = true
      break
    end
  end
  if cut then
    complete = last
    break
  end
  if #chunk < want then break end
  start = '(' .. chunk[#chunk][1]
  if budget > 0 then
    local each = math.max(bytes / #out, 1)
    count = math.max(1, math.min(64, math.floor((budget - bytes) / each) + 1))
  else
    count = 64
  end
end
if complete == last_end then
  local nxt = redis.call('XRANGE', KEYS[2], '(' .. stop, '+', 'COUNT', 1)[1]
  if nxt then
    local p = prev_of(nxt)
    if p > last and p <= last_end then return false end
  end
end
return {fmt(complete), out}
",
    )
});
