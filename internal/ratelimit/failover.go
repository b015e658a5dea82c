package ratelimit

import (
	"log/slog"
	"sync"
	"time"

	"github.com/go-chi/httprate"
)

// failoverCooldown is how long a failed shared counter is left alone before it is
// tried again: long enough that a stalled Redis costs one request a timeout now and
// then, not every request.
const failoverCooldown = 10 * time.Second

// failover is a shared counter with this process's own count beside it. Every
// increment goes to both; reads come from the shared one while it answers, and from
// the local one for failoverCooldown after it fails, so that the limits still hold
// per replica during an outage and no request waits on a dead counter.
type failover struct {
	shared httprate.LimitCounter
	local  httprate.LimitCounter
	name   string
	log    *slog.Logger
	now    func() time.Time

	mu        sync.Mutex
	downUntil time.Time // zero: the shared counter is in use
}

func newFailover(shared httprate.LimitCounter, name string, log *slog.Logger, now func() time.Time) *failover {
	return &failover{shared: shared, local: httprate.NewLocalLimitCounter(DefaultWindow), name: name, log: log, now: now}
}

// Config implements httprate.LimitCounter.
func (f *failover) Config(requestLimit int, window time.Duration) {
	f.shared.Config(requestLimit, window)
	f.local.Config(requestLimit, window)
}

// Increment implements httprate.LimitCounter.
func (f *failover) Increment(key string, window time.Time) error {
	return f.IncrementBy(key, window, 1)
}

// IncrementBy implements httprate.LimitCounter.
func (f *failover) IncrementBy(key string, window time.Time, n int) error {
	_ = f.local.IncrementBy(key, window, n) // in memory: never fails
	if f.down() {
		return nil
	}
	if err := f.shared.IncrementBy(key, window, n); err != nil {
		f.fail(err)
	}
	return nil
}

// Get implements httprate.LimitCounter.
func (f *failover) Get(key string, current, previous time.Time) (int, int, error) {
	if !f.down() {
		cur, prev, err := f.shared.Get(key, current, previous)
		if err == nil {
			return cur, prev, nil
		}
		f.fail(err)
	}
	return f.local.Get(key, current, previous)
}

func (f *failover) down() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.downUntil.IsZero() {
		return false
	}
	if f.now().Before(f.downUntil) {
		return true
	}
	f.downUntil = time.Time{}
	f.log.Info("rate limit counter: trying the shared counter again", "limit", f.name)
	return false
}

func (f *failover) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.downUntil = f.now().Add(failoverCooldown)
	f.log.Warn("rate limit counter unavailable: counting in this process for a while", "limit", f.name, "retry_in", failoverCooldown, "err", err)
}
