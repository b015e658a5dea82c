// Package budget owns the pacing of linkbff's calls to Auth0's Management API: one
// budget of requests per second for every replica together. With Redis the budget is
// kept there (GCRA, go-redis/redis_rate), so that replicas share it; without, in this
// process (golang.org/x/time/rate).
//
// A budget hands out one request at a time (a burst of one), evenly spaced, and
// spaces them Headroom wider than 1/rate: a request reaches Auth0 a little after
// linkbff decided to send it, by a delay that varies, and the headroom keeps two
// requests sent one interval apart from landing in one of Auth0's windows. So no one
// second, as Auth0 receives the requests, holds more than the budget.
package budget

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
)

// Headroom is how much wider than 1/rate requests are spaced (10%).
const Headroom = 0.1

// redisTimeout bounds one call to Redis: a healthy Redis answers in well under a
// millisecond, and a request must not wait on a stalled one for its whole deadline.
// It is shorter than the other Redis calls' bounds (the rate limits' counters and
// the identity cache, 250ms each), which a read that misses the cache also makes
// during an outage: all together they stay under the Redis client's I/O timeout.
// After a failure the budget is not asked again for redisRetry: meanwhile every
// request would pay the timeout again.
const (
	redisTimeout = 100 * time.Millisecond
	redisRetry   = time.Second
)

// Interval is the spacing of requests under a budget of rps requests per second.
func Interval(rps float64) time.Duration {
	return time.Duration((1 + Headroom) * float64(time.Second) / rps)
}

// Local is a budget of this process alone.
type Local struct {
	lim *rate.Limiter
}

// NewLocal returns a budget of rps requests per second for this process.
func NewLocal(rps float64) (*Local, error) {
	if !(rps > 0) {
		return nil, fmt.Errorf("budget: rate %v must be positive", rps)
	}
	return &Local{lim: rate.NewLimiter(rate.Every(Interval(rps)), 1)}, nil
}

// Take takes one request slot, waiting for it if need be, and reports granted. When
// the slot comes later than ctx's deadline allows, it takes nothing and returns at
// once with granted false and retryAfter, the wait it would have needed. It fails
// only when ctx ends while it waits.
func (l *Local) Take(ctx context.Context) (granted bool, retryAfter time.Duration, err error) {
	r := l.lim.Reserve()
	wait := r.Delay()
	if !fits(ctx, wait) {
		r.Cancel()
		return false, wait, nil
	}
	if err := sleep(ctx, wait); err != nil {
		r.Cancel()
		return false, 0, err
	}
	return true, 0, nil
}

// Redis is a budget that every replica on one Redis shares, under one key.
type Redis struct {
	lim   *redis_rate.Limiter
	key   string
	limit redis_rate.Limit
	// fallback paces this replica alone while Redis does not answer: the request
	// still goes out, at most at the budget's rate from each replica.
	fallback *Local
	onError  func(error)
	// retryAt is 0 while Redis answers; after it failed, the instant (unix ns)
	// before which it is not asked again.
	retryAt atomic.Int64
}

// NewRedis returns the budget of rps requests per second shared through rdb under
// key. onError (may be nil) hears when Redis stops answering the budget, and when it
// answers again (with a nil error); meanwhile each replica paces itself alone.
func NewRedis(rdb *redis.Client, key string, rps float64, onError func(error)) (*Redis, error) {
	fallback, err := NewLocal(rps)
	if err != nil {
		return nil, err
	}
	if onError == nil {
		onError = func(error) {}
	}
	return &Redis{
		lim: redis_rate.NewLimiter(rdb),
		key: key,
		// GCRA with a burst of one: one request per Period/Rate, never two at once.
		limit:    redis_rate.Limit{Rate: 1, Burst: 1, Period: Interval(rps)},
		fallback: fallback,
		onError:  onError,
	}, nil
}

// Take is Local.Take on the shared budget. A caller refused a slot sleeps until Redis
// said the next one comes and asks again, as often as its deadline allows: replicas
// compete for each slot, and the GCRA in Redis gives it to one.
func (b *Redis) Take(ctx context.Context) (granted bool, retryAfter time.Duration, err error) {
	for {
		if at := b.retryAt.Load(); at != 0 && time.Now().UnixNano() < at {
			return b.fallback.Take(ctx)
		}
		rctx, cancel := context.WithTimeout(ctx, redisTimeout)
		res, err := b.lim.Allow(rctx, b.key, b.limit)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return false, 0, ctx.Err()
			}
			if b.retryAt.Swap(time.Now().Add(redisRetry).UnixNano()) == 0 {
				b.onError(fmt.Errorf("budget: shared budget unavailable, pacing this replica alone: %w", err))
			}
			return b.fallback.Take(ctx)
		}
		if b.retryAt.Swap(0) != 0 {
			b.onError(nil)
		}
		if res.Allowed > 0 {
			return true, 0, nil
		}
		wait := res.RetryAfter
		if !fits(ctx, wait) {
			return false, wait, nil
		}
		if err := sleep(ctx, wait); err != nil {
			return false, 0, err
		}
	}
}

// fits reports whether waiting d still leaves ctx time: a caller never sleeps only to
// fail at its deadline. A ctx without a deadline may wait for anything.
func fits(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return !ok || d < time.Until(deadline)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
