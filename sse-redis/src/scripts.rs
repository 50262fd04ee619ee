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
/// Every key is checked before anything is written, so that an error means
/// nothing was stored.
///
/// KEYS: seq, since, all, topic streams... ARGV: epoch, maxlen, event,
/// max age in microseconds (0: none).
pub(crate) static APPEND: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
for i = 3, #KEYS do
  local kind = redis.call('TYPE', KEYS[i]).ok
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
for i = 4, #KEYS do
  local prev = '0'
  local newest = redis.call('XREVRANGE', KEYS[i], '+', '-', 'COUNT', 1)
  if #newest > 0 then prev = string.match(newest[1][1], '%-(%d+)$') end
  redis.call('XADD', KEYS[i], 'MAXLEN', '~', ARGV[2], id, 'e', ARGV[3], 'p', prev, 'l', since)
  if age > 0 then
    local oldest = math.max(now - age, 0)
    redis.call('XTRIM', KEYS[i], 'MINID', '~', ARGV[1] .. '-' .. string.format('%.0f', oldest))
  end
end
return s
",
    )
});

/// The entries of a topic strictly after `after` and before `before`, at most
/// `limit`; `false` when some of them may be gone: trimmed (the oldest
/// entry's `p`, the entry trimmed just before it, is past `after`; Redis's
/// own `max-deleted-entry-id` counts only `XDEL`), deleted, or from before
/// the store's lifetime (a cursor of 0, from a hub started on an empty
/// store, is before every lifetime: it has missed nothing).
///
/// KEYS: since, topic stream. ARGV: epoch, after, before, limit.
pub(crate) static REPLAY: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local since = redis.call('GET', KEYS[1])
if not since then return false end
local after = tonumber(ARGV[2])
if after > 0 and after < tonumber(since) then return false end
if redis.call('EXISTS', KEYS[2]) == 0 then return {} end
local oldest = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)[1]
if oldest then
  local fields = oldest[2]
  for i = 1, #fields, 2 do
    if fields[i] == 'p' and tonumber(fields[i + 1]) > after then return false end
  end
end
local info = redis.call('XINFO', 'STREAM', KEYS[2])
for i = 1, #info, 2 do
  if info[i] == 'max-deleted-entry-id' then
    local deleted = tonumber(string.match(info[i + 1], '%-(%d+)$'))
    if deleted > after then return false end
  end
end
local before = tonumber(ARGV[3])
if before <= after + 1 then return {} end
return redis.call('XRANGE', KEYS[2], '(' .. ARGV[1] .. '-' .. ARGV[2],
  ARGV[1] .. '-' .. string.format('%.0f', before - 1), 'COUNT', ARGV[4])
",
    )
});
