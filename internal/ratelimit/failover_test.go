package ratelimit

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/go-chi/httprate"

	"github.com/linkbff/linkbff/internal/testkit"
)

// flaky is a shared counter that fails while down is set, and otherwise keeps its
// counts in memory.
type flaky struct {
	httprate.LimitCounter
	down  bool
	calls int
}

func (f *flaky) IncrementBy(key string, w time.Time, n int) error {
	f.calls++
	if f.down {
		return errors.New("down")
	}
	return f.LimitCounter.IncrementBy(key, w, n)
}

func (f *flaky) Get(key string, cur, prev time.Time) (int, int, error) {
	f.calls++
	if f.down {
		return 0, 0, errors.New("down")
	}
	return f.LimitCounter.Get(key, cur, prev)
}

// TestFailoverTriesTheSharedCounterAgain: after a failure the shared counter is left
// alone for failoverCooldown, the local count answering meanwhile; then it is used
// again.
func TestFailoverTriesTheSharedCounterAgain(t *testing.T) {
	clock := testkit.NewClock()
	shared := &flaky{LimitCounter: httprate.NewLocalLimitCounter(time.Minute)}
	f := newFailover(shared, "test", slog.New(slog.DiscardHandler), clock.Now)
	f.Config(10, time.Minute)
	win := clock.Now().Truncate(time.Minute)
	prev := win.Add(-time.Minute)

	shared.down = true
	if cur, _, err := f.Get("k", win, prev); err != nil || cur != 0 {
		t.Fatalf("Get with the shared counter down: %d, %v", cur, err)
	}
	for range 3 {
		if err := f.IncrementBy("k", win, 1); err != nil {
			t.Fatal(err)
		}
	}
	if cur, _, _ := f.Get("k", win, prev); cur != 3 {
		t.Errorf("local count = %d, want 3", cur)
	}
	if shared.calls != 1 {
		t.Errorf("shared counter called %d times during the cooldown, want 1", shared.calls)
	}

	shared.down = false
	clock.Advance(failoverCooldown)
	if err := f.IncrementBy("k", win, 5); err != nil {
		t.Fatal(err)
	}
	if cur, _, _ := f.Get("k", win, prev); cur != 5 {
		t.Errorf("after the cooldown Get = %d, want the shared count 5", cur)
	}
}
