//! The Lua scripts the Redis backend runs: one GCRA rate decision, and the
//! compare-and-delete of a replay release.
//!
//! Invariant: each script is one atomic call that reads Redis `TIME` as its
//! clock and sets a TTL on every key it writes.

/// The compare-and-delete of a release.
pub(super) const RELEASE_LUA: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// One GCRA decision. ARGV: emission interval (ms per request), burst. Returns
/// 0 when allowed, else the milliseconds until the next request would be.
pub(super) const GCRA_LUA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - interval * burst
if now < allow_at then
  return math.max(1, allow_at - now)
end
redis.call('SET', KEYS[1], new_tat, 'PX', math.max(1, new_tat - now))
return 0
";
