package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/linkbff/linkbff/internal/identity"
)

// A subject's intents live in one hash, "intents:{subject}": field "n:{nonce}" holds
// "{seq} {expires, unix ms}", and field "seq" numbers the puts, so that "oldest" is
// exact even when two puts share a millisecond. One key per subject keeps every
// script on one key, and a consume by another subject looks in its own hash: it can
// neither see nor burn someone else's intent.

// putIntent drops the subject's expired intents, then its oldest ones down to
// max-1, and adds the new one. The hash lives (in Redis time) as long as its
// longest-lived intent plus gcMargin.
//
// KEYS[1] the subject's hash; ARGV: field, now ms, expires ms, max, gc ms.
var putIntent = redis.NewScript(`
local h = KEYS[1]
local now = tonumber(ARGV[2])
local fields = redis.call('HGETALL', h)
local live = {}
for i = 1, #fields, 2 do
  local f = fields[i]
  if f ~= 'seq' then
    local seq, exp = string.match(fields[i + 1], '^(%d+) (%-?%d+)$')
    if tonumber(exp) < now then
      redis.call('HDEL', h, f)
    elseif f ~= ARGV[1] then
      live[#live + 1] = {f, tonumber(seq)}
    end
  end
end
table.sort(live, function(a, b) return a[2] < b[2] end)
for i = 1, #live - tonumber(ARGV[4]) + 1 do
  redis.call('HDEL', h, live[i][1])
end
local seq = redis.call('HINCRBY', h, 'seq', 1)
redis.call('HSET', h, ARGV[1], seq .. ' ' .. ARGV[3])
local gc = tonumber(ARGV[5])
if redis.call('PTTL', h) < gc then
  redis.call('PEXPIRE', h, gc)
end
return 1
`)

// consumeIntent takes the intent out of the hash and returns it (nil when there is
// none): of any number of racing consumes, exactly one gets it. Whether it was still
// live is decided by the caller from the value, which no one can change any more.
//
// KEYS[1] the subject's hash; ARGV[1] the field.
var consumeIntent = redis.NewScript(`
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then
  return false
end
redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('HLEN', KEYS[1]) == 1 then
  redis.call('DEL', KEYS[1])
end
return v
`)

// PutIntent implements identity.IntentStore.
func (s *Store) PutIntent(ctx context.Context, nonce, subject string, ttl time.Duration) error {
	now := s.now()
	err := putIntent.Run(ctx, s.rdb, []string{s.key("intents", subject)},
		"n:"+nonce, now.UnixMilli(), now.Add(ttl).UnixMilli(), identity.MaxIntentsPerUser, px(ttl+gcMargin)).Err()
	if err != nil {
		return unavailable(ctx, "put intent", err)
	}
	return nil
}

// ConsumeIntent implements identity.IntentStore.
func (s *Store) ConsumeIntent(ctx context.Context, nonce, subject string) (bool, error) {
	v, err := consumeIntent.Run(ctx, s.rdb, []string{s.key("intents", subject)}, "n:"+nonce).Text()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, unavailable(ctx, "consume intent", err)
	}
	_, exp, _ := strings.Cut(v, " ")
	ms, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return false, fmt.Errorf("redisstore: intent of %q holds %q: %w", subject, v, err)
	}
	return s.now().UnixMilli() <= ms, nil
}

// RevokeIntents implements identity.IntentStore: the subject's intents are its one
// hash, so deleting the hash revokes them all at once.
func (s *Store) RevokeIntents(ctx context.Context, subject string) error {
	if err := s.rdb.Del(ctx, s.key("intents", subject)).Err(); err != nil {
		return unavailable(ctx, "revoke intents", err)
	}
	return nil
}
