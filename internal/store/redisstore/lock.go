package redisstore

import (
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/linkbff/linkbff/internal/reqlog"
)

// A lock is the key "lock:{key}" holding its holder's random token, set with SET NX
// PX (Options.LockTTL), so that a holder that died frees it by expiring. Only the
// holder's token deletes it: a holder whose hold expired and was taken over cannot
// release its successor's.

// Waiting for a held lock polls with capped, jittered exponential back-off: link and
// unlink of one user are rare and short, so a waiter's extra latency (at most
// lockMaxBackoff) costs less than a pub/sub connection per waiter.
const (
	lockMinBackoff = 5 * time.Millisecond
	lockMaxBackoff = 50 * time.Millisecond
	// unlockTimeout bounds the release, which runs after the request may have ended;
	// a release that fails leaves the hold to expire.
	unlockTimeout = 2 * time.Second
)

// unlockScript deletes the lock only if it still holds the caller's token.
//
// KEYS[1] the lock; ARGV[1] the token.
var unlockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// Lock implements identity.Locker. It returns ErrUnavailable (wrapped) when Redis
// fails, and ctx's error (wrapped) when ctx ends while the lock is held by another.
func (s *Store) Lock(ctx context.Context, key string) (func(), error) {
	k := s.key("lock", key)
	token := rand.Text()
	backoff := lockMinBackoff
	for {
		ok, err := s.rdb.SetNX(ctx, k, token, s.lockTTL).Result()
		if err != nil {
			return nil, unavailable(ctx, "lock", err)
		}
		if ok {
			return s.unlocker(ctx, k, token), nil
		}
		// Full jitter, so that waiters on several replicas do not poll in step.
		t := time.NewTimer(backoff/2 + mrand.N(backoff/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("redisstore: waiting for lock of %q: %w", key, ctx.Err())
		case <-t.C:
		}
		backoff = min(2*backoff, lockMaxBackoff)
	}
}

func (s *Store) unlocker(ctx context.Context, k, token string) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unlockTimeout)
			defer cancel()
			if err := unlockScript.Run(uctx, s.rdb, []string{k}, token).Err(); err != nil {
				reqlog.From(ctx).Warn("redis lock release failed; it expires by itself", "lock", k, "ttl", s.lockTTL, "err", err)
			}
		})
	}
}
