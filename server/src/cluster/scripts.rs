//! The Lua scripts that change a session's shared state, each atomic in
//! Redis (see `docs/cluster.md`). Every script gets the same ten keys, all
//! with the session's hash tag ([`super::keys::SessionKeys`]), so in Redis
//! Cluster one session's state sits in one slot.
//!
//! | key | type | holds |
//! | --- | --- | --- |
//! | `KEYS[1]` m | hash | connection id → its `ConnectionInfo` JSON |
//! | `KEYS[2]` o | hash | connection id → owner, `node|takeover` |
//! | `KEYS[3]` k | hash | connection id → `secret-hash role suppress join-order` |
//! | `KEYS[4]` seq | string | last event seq |
//! | `KEYS[5]` log | stream | the events, entry id `seq-0` |
//! | `KEYS[6]` a | hash | connection id → last seq it acknowledged |
//! | `KEYS[7]` cs | hash | connection id → its client seq state |
//! | `KEYS[8]` p | string | the project the session belongs to |
//! | `KEYS[9]` j | string | last join order |
//! | `KEYS[10]` l | hash | connection id → when its node was seen dead (ms) |
//!
//! `ARGV[1]` is always the session's feed channel; the arguments each
//! script lists below follow it.
//!
//! Every script answers an array of strings whose first item is a status:
//! `"0"` done, other values are refusals the caller maps to error codes.
//! An event is appended with `append`: the next seq, the entry (frame text
//! with the seq put in, kind, sender, recipients, departure), and the same
//! entry published on the session's feed channel (`ARGV[1]`) as a wake-up
//! that usually carries everything the reader needs.

/// Helpers every script starts with.
const PRELUDE: &str = r#"
local function append(chan, kind, from, to, gone, why, pre, post)
  local seq = redis.call('INCR', KEYS[4])
  local f = pre .. seq .. post
  redis.call('XADD', KEYS[5], seq .. '-0', 'k', kind, 'from', from, 'to', to,
    'gone', gone, 'why', why, 'f', f)
  redis.call('PUBLISH', chan, 'e ' .. seq .. '\n' .. kind .. '\n' .. from .. '\n' .. to
    .. '\n' .. gone .. '\n' .. why .. '\n' .. f)
  return seq
end
local function forget(conn)
  for _, i in ipairs({1, 2, 3, 6, 7, 10}) do redis.call('HDEL', KEYS[i], conn) end
end
local function settle()
  if redis.call('HLEN', KEYS[1]) == 0 then
    redis.call('XTRIM', KEYS[5], 'MAXLEN', 0)
    for _, i in ipairs({4, 5, 8, 9}) do redis.call('EXPIRE', KEYS[i], 86400) end
  end
end
"#;

/// Join: ARGV chan, conn, info, "hash role sup", node, max, project, pre,
/// post, want-list. Answers `1` (another project), `2` (full), or `0`, join
/// order, seq of its `connection_created`, then (with want-list) pairs of
/// the other members' info and meta.
const JOIN: &str = r#"
local p = redis.call('GET', KEYS[8])
if p and p ~= ARGV[7] then return {'1'} end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[6]) then return {'2'} end
redis.call('SET', KEYS[8], ARGV[7])
for _, i in ipairs({4, 5, 8, 9}) do redis.call('PERSIST', KEYS[i]) end
local out = {'0', '', ''}
if ARGV[10] == '1' then
  local ids = redis.call('HKEYS', KEYS[1])
  for _, id in ipairs(ids) do
    table.insert(out, redis.call('HGET', KEYS[1], id))
    table.insert(out, redis.call('HGET', KEYS[3], id))
  end
end
local j = redis.call('INCR', KEYS[9])
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[5] .. '|1')
redis.call('HSET', KEYS[3], ARGV[2], ARGV[4] .. ' ' .. j)
local seq = append(ARGV[1], 'c', '', 'w:' .. ARGV[2], '', '', ARGV[8], ARGV[9])
redis.call('HSET', KEYS[6], ARGV[2], seq)
out[2] = tostring(j)
out[3] = tostring(seq)
return out
"#;

/// Resume: ARGV chan, conn, secret hash, node, last seq. Answers `1` (no
/// such connection or wrong secret) or `0`, takeover, role, sup, join
/// order, info, client seq state, seq now, project, and the seq up to
/// which it needs nothing more (its settled position).
const RESUME: &str = r#"
local meta = redis.call('HGET', KEYS[3], ARGV[2])
if not meta then return {'1'} end
local sh, role, sup, j = string.match(meta, '^(%S+) (%S+) (%S+) (%S+)$')
if sh ~= ARGV[3] then return {'1'} end
local o = redis.call('HGET', KEYS[2], ARGV[2]) or '|0'
local g = (tonumber(string.match(o, '|(%d+)$')) or 0) + 1
redis.call('HSET', KEYS[2], ARGV[2], ARGV[4] .. '|' .. g)
redis.call('HDEL', KEYS[10], ARGV[2])
local a = tonumber(redis.call('HGET', KEYS[6], ARGV[2]) or '0')
redis.call('PUBLISH', ARGV[1], 't ' .. ARGV[2] .. ' ' .. g)
return {'0', tostring(g), role, sup, j, redis.call('HGET', KEYS[1], ARGV[2]),
  redis.call('HGET', KEYS[7], ARGV[2]) or '0', redis.call('GET', KEYS[4]) or '0',
  redis.call('GET', KEYS[8]) or '', tostring(a)}
"#;

/// Signal: ARGV chan, from ('' = the application server), owner, client
/// seq, client seq state, recipients, pre, post, project ('' = not
/// checked). Answers `0` seq, `1` missing-id (a target is not connected),
/// `2` (not this node's connection any more), `3` (already in the log:
/// a repeat), `4` (nobody is connected), `5` (another project).
const SIGNAL: &str = r#"
if ARGV[9] ~= '' then
  local p = redis.call('GET', KEYS[8])
  if not p or redis.call('HLEN', KEYS[1]) == 0 then return {'4'} end
  if p ~= ARGV[9] then return {'5'} end
end
if ARGV[2] ~= '' then
  if redis.call('HGET', KEYS[2], ARGV[2]) ~= ARGV[3] then return {'2'} end
  local cs = redis.call('HGET', KEYS[7], ARGV[2])
  if cs and tonumber(string.match(cs, '^%d+')) >= tonumber(ARGV[4]) then return {'3'} end
end
if string.sub(ARGV[6], 1, 2) == 'l:' then
  for id in string.gmatch(string.sub(ARGV[6], 3), '%S+') do
    if redis.call('HEXISTS', KEYS[1], id) == 0 then return {'1', id} end
  end
end
local seq = append(ARGV[1], 's', ARGV[2], ARGV[6], '', '', ARGV[7], ARGV[8])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[7], ARGV[2], ARGV[5]) end
return {'0', tostring(seq)}
"#;

/// Client seq of a signal to the application server, which has no event
/// in the log: ARGV chan, conn, owner, client seq, client seq state. Answers
/// `0` (counted), `2` (not this node's connection any more), `3` (counted
/// before: a repeat).
const CLIENT_SEQ: &str = r#"
if redis.call('HGET', KEYS[2], ARGV[2]) ~= ARGV[3] then return {'2'} end
local cs = redis.call('HGET', KEYS[7], ARGV[2])
if cs and tonumber(string.match(cs, '^%d+')) >= tonumber(ARGV[4]) then return {'3'} end
redis.call('HSET', KEYS[7], ARGV[2], ARGV[5])
return {'0'}
"#;

/// Leave: ARGV chan, conn, expected owner ('' = any), reason, pre, post,
/// project ('' = not checked). Answers `0` seq, the member's info, the
/// session's project (for the monitoring event of the one node that removed
/// it); `1` (not a member), `2` (owned by someone else now), `5` (another
/// project, or no session).
const LEAVE: &str = r#"
local project = redis.call('GET', KEYS[8])
if ARGV[7] ~= '' and project ~= ARGV[7] then return {'5'} end
local o = redis.call('HGET', KEYS[2], ARGV[2])
if not o then return {'1'} end
if ARGV[3] ~= '' and o ~= ARGV[3] then return {'2'} end
local info = redis.call('HGET', KEYS[1], ARGV[2]) or ''
forget(ARGV[2])
local seq = append(ARGV[1], 'c', '', 'w:' .. ARGV[2], ARGV[2], ARGV[4], ARGV[5], ARGV[6])
settle()
return {'0', tostring(seq), info, project or ''}
"#;

/// Acks and trimming: ARGV chan, then pairs of conn, seq (each raised, never
/// lowered, for members still there); then the log is cut below the
/// lowest acknowledgement. Answers `0`.
const ACK: &str = r#"
for i = 2, #ARGV, 2 do
  local c, n = ARGV[i], tonumber(ARGV[i + 1])
  if redis.call('HEXISTS', KEYS[1], c) == 1 then
    if n > tonumber(redis.call('HGET', KEYS[6], c) or '0') then redis.call('HSET', KEYS[6], c, n) end
  end
end
local low = nil
for _, v in ipairs(redis.call('HVALS', KEYS[6])) do
  local n = tonumber(v)
  if not low or n < low then low = n end
end
if low then redis.call('XTRIM', KEYS[5], 'MINID', (low + 1) .. '-0') end
return {'0'}
"#;

/// Reaping for a dead node: ARGV chan, owner prefix `node|`, now (ms), grace
/// (ms). Marks when each of its connections was first seen orphaned and
/// answers `0`, how many it still owns, then pairs of conn, owner whose
/// grace is over (the caller removes them with `LEAVE`, owner checked).
const REAP: &str = r#"
local owners = redis.call('HGETALL', KEYS[2])
local out = {'0', '0'}
local left = 0
for i = 1, #owners, 2 do
  local c, o = owners[i], owners[i + 1]
  if string.sub(o, 1, #ARGV[2]) == ARGV[2] then
    left = left + 1
    local l = redis.call('HGET', KEYS[10], c)
    if not l then
      redis.call('HSET', KEYS[10], c, ARGV[3])
    elseif tonumber(ARGV[3]) - tonumber(l) >= tonumber(ARGV[4]) then
      table.insert(out, c)
      table.insert(out, o)
    end
  end
end
out[2] = tostring(left)
return out
"#;

/// Listing: ARGV chan only. Answers `0`, project ('' if none), then pairs of info
/// and meta.
const LIST: &str = r#"
local out = {'0', redis.call('GET', KEYS[8]) or ''}
for _, id in ipairs(redis.call('HKEYS', KEYS[1])) do
  table.insert(out, redis.call('HGET', KEYS[1], id))
  table.insert(out, redis.call('HGET', KEYS[3], id))
end
return out
"#;

/// The scripts, loaded once (`EVALSHA`, falling back to loading them).
pub struct Scripts {
    pub join: redis::Script,
    pub resume: redis::Script,
    pub signal: redis::Script,
    pub client_seq: redis::Script,
    pub leave: redis::Script,
    pub ack: redis::Script,
    pub reap: redis::Script,
    pub list: redis::Script,
}

impl Scripts {
    pub fn new() -> Scripts {
        let s = |body: &str| redis::Script::new(&format!("{PRELUDE}{body}"));
        Scripts {
            join: s(JOIN),
            resume: s(RESUME),
            signal: s(SIGNAL),
            client_seq: s(CLIENT_SEQ),
            leave: s(LEAVE),
            ack: s(ACK),
            reap: s(REAP),
            list: s(LIST),
        }
    }
}
