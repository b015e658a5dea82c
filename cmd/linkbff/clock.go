package main

import (
	"context"
	"time"
)

// clockKey is the context key of the clock the login-age rule (REAUTH_MAX_AGE)
// reads. Nothing in the program sets it: a test gives run a context with a clock it
// moves, so that a login turns old at once instead of after minutes of waiting.
type clockKey struct{}

// withClock returns ctx carrying now as the clock of the login-age rule.
func withClock(ctx context.Context, now func() time.Time) context.Context {
	return context.WithValue(ctx, clockKey{}, now)
}

// clockFrom is the clock ctx carries, or nil (time.Now) when it carries none.
func clockFrom(ctx context.Context) func() time.Time {
	now, _ := ctx.Value(clockKey{}).(func() time.Time)
	return now
}
