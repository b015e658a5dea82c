package server

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

type ctxKey struct{}

func isDone(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return true
	default:
		return false
	}
}

// newDeadline returns a requestContext of d below parent, without a log context.
func newDeadline(parent context.Context, d time.Duration) *requestContext {
	c := &requestContext{}
	c.init(parent, time.Now().Add(d), nil, nil)
	return c
}

func TestDeadlineContextLikeWithDeadline(t *testing.T) {
	t.Run("deadline reported at once, the parent's when earlier", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c := newDeadline(context.Background(), time.Second)
			if d, ok := c.Deadline(); !ok || !d.Equal(time.Now().Add(time.Second)) {
				t.Errorf("Deadline = %v, %v", d, ok)
			}
			parent, cancel := context.WithTimeout(context.Background(), time.Millisecond)
			defer cancel()
			c = newDeadline(parent, time.Second)
			if d, _ := c.Deadline(); !d.Equal(time.Now().Add(time.Millisecond)) {
				t.Errorf("Deadline = %v, want the parent's", d)
			}
			if c.inner.Load() != nil {
				t.Error("Deadline made the inner context")
			}
		})
	})
	t.Run("expires without anyone waiting", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c := newDeadline(context.Background(), time.Second)
			if err := c.Err(); err != nil {
				t.Fatalf("Err before the deadline = %v", err)
			}
			if c.inner.Load() != nil {
				t.Error("Err before the deadline made the inner context")
			}
			time.Sleep(time.Second)
			if err := c.Err(); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Err at the deadline = %v", err)
			}
			if !isDone(c) {
				t.Error("Err is non-nil but Done is open")
			}
			if cause := context.Cause(c); !errors.Is(cause, context.DeadlineExceeded) {
				t.Errorf("Cause = %v", cause)
			}
		})
	})
	t.Run("a waiter wakes at the deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c := newDeadline(context.Background(), time.Second)
			start := time.Now()
			<-c.Done()
			if waited := time.Since(start); waited != time.Second {
				t.Errorf("woke after %v", waited)
			}
			if !errors.Is(c.Err(), context.DeadlineExceeded) || !errors.Is(context.Cause(c), context.DeadlineExceeded) {
				t.Errorf("Err %v, Cause %v", c.Err(), context.Cause(c))
			}
		})
	})
	t.Run("derived contexts end with it", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c := newDeadline(context.Background(), time.Second)
			child, cancel := context.WithCancel(context.WithValue(c, ctxKey{}, "v"))
			defer cancel()
			fired := make(chan struct{})
			context.AfterFunc(c, func() { close(fired) })
			time.Sleep(time.Second)
			synctest.Wait()
			if !isDone(child) || !errors.Is(child.Err(), context.DeadlineExceeded) {
				t.Errorf("child: done %v, Err %v", isDone(child), child.Err())
			}
			if !isDone(c) {
				t.Error("c not done")
			}
			select {
			case <-fired:
			default:
				t.Error("AfterFunc did not run")
			}
			if child.Value(ctxKey{}) != "v" {
				t.Error("value lost")
			}
		})
	})
	t.Run("parent cancelled", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			why := errors.New("client went away")
			parent, cancel := context.WithCancelCause(context.WithValue(context.Background(), ctxKey{}, "p"))
			c := newDeadline(parent, time.Second)
			if c.Value(ctxKey{}) != "p" {
				t.Error("parent's value not seen")
			}
			cancel(why)
			if !errors.Is(c.Err(), context.Canceled) || !isDone(c) || !errors.Is(context.Cause(c), why) {
				t.Errorf("Err %v, done %v, Cause %v", c.Err(), isDone(c), context.Cause(c))
			}
			if c.Value(ctxKey{}) != "p" {
				t.Error("parent's value not seen through the inner context")
			}
		})
	})
	t.Run("end cancels, made before or after", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			waited := newDeadline(context.Background(), time.Second)
			done := waited.Done()
			waited.end()
			if !isDone(waited) || !errors.Is(waited.Err(), context.Canceled) {
				t.Errorf("after end: done %v, Err %v", isDone(waited), waited.Err())
			}
			select {
			case <-done:
			default:
				t.Error("the channel handed out before end stayed open")
			}
			never := newDeadline(context.Background(), time.Second)
			never.end()
			if !errors.Is(never.Err(), context.Canceled) || !isDone(never) {
				t.Errorf("ended, never waited on: Err %v, done %v", never.Err(), isDone(never))
			}
		})
	})
}
