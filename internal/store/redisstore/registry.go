package redisstore

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// Registry is webauth's Registry on Redis, so that every replica sharing the
// session store can end any session: which sessions each user and each Auth0 login
// session has (a sorted set per owner, "sessions-of:{owner}", member = the
// session's store key, score = its expiry in unix ms), and which back-channel
// logout tokens were used ("once:{id}", holding its expiry in unix ms). As the
// identity state does, it judges expiry by its own clock (Options.Now); Redis TTLs
// are garbage collection, set gcMargin later.
type Registry struct {
	keyspace
}

// NewRegistry returns a Registry on rdb under opts.Prefix (Options.LockTTL is not
// used).
func NewRegistry(rdb *redis.Client, opts Options) *Registry {
	return &Registry{newKeyspace(rdb, opts)}
}

// addSession drops the owner's expired sessions, adds this one, and keeps the set
// (in Redis time) as long as its longest-lived member plus gcMargin.
//
// KEYS[1] the owner's set; ARGV: now ms, expires ms, session, gc ms.
var addSession = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
local gc = tonumber(ARGV[4])
if redis.call('PTTL', KEYS[1]) < gc then
  redis.call('PEXPIRE', KEYS[1], gc)
end
return 1
`)

// AddSession implements webauth.Registry.
func (r *Registry) AddSession(ctx context.Context, owner, session string, ttl time.Duration) error {
	now := r.now()
	err := addSession.Run(ctx, r.rdb, []string{r.key("sessions-of", owner)},
		now.UnixMilli(), now.Add(ttl).UnixMilli(), session, px(ttl+gcMargin)).Err()
	if err != nil {
		return unavailable(ctx, "add session", err)
	}
	return nil
}

// takeSessions returns the owner's sessions and deletes the set, in one step.
var takeSessions = redis.NewScript(`
local m = redis.call('ZRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
return m
`)

// TakeSessions implements webauth.Registry.
func (r *Registry) TakeSessions(ctx context.Context, owner string) ([]string, error) {
	got, err := takeSessions.Run(ctx, r.rdb, []string{r.key("sessions-of", owner)}).StringSlice()
	if err != nil {
		return nil, unavailable(ctx, "take sessions", err)
	}
	return got, nil
}

// claimOnce records the id unless a live record of it exists.
//
// KEYS[1] the id's key; ARGV: now ms, expires ms, gc ms.
var claimOnce = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and tonumber(v) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`)

// ClaimOnce implements webauth.Registry.
func (r *Registry) ClaimOnce(ctx context.Context, id string, ttl time.Duration) (bool, error) {
	now := r.now()
	n, err := claimOnce.Run(ctx, r.rdb, []string{r.key("once", id)}, now.UnixMilli(), now.Add(ttl).UnixMilli(), px(ttl+gcMargin)).Int()
	if err != nil {
		return false, unavailable(ctx, "claim", err)
	}
	return n == 1, nil
}

// Unclaim implements webauth.Registry.
func (r *Registry) Unclaim(ctx context.Context, id string) error {
	if err := r.rdb.Del(ctx, r.key("once", id)).Err(); err != nil {
		return unavailable(ctx, "unclaim", err)
	}
	return nil
}
