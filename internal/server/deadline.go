package server

import (
	"context"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/linkbff/linkbff/internal/auth"
	"github.com/linkbff/linkbff/internal/ratelimit"
	"github.com/linkbff/linkbff/internal/reqlog"
)

// requestContext is the context of a request below scopeRequest: it carries the
// request's log context and client address (answering reqlog's and ratelimit's keys
// with them, so that no WithValue layer and request copy are needed for them) and
// its deadline.
//
// The deadline is context.WithDeadline(parent, deadline) made lazily. Most
// requests (a cached list) never wait on their context, yet WithDeadline arms a
// runtime timer, registers with the parent and allocates four objects on every one
// of them. This context reports its deadline at once and makes the real one (inner)
// only when something needs its Done channel: a caller about to wait, or a context
// derived from it. Until then Err compares the clock itself, and makes inner as soon
// as it would answer non-nil, so that Done is closed whenever Err says so (the
// context.Context contract) and context.Cause agrees with Err.
//
// It is meant to be embedded in a per-request struct: init, then end when the
// request is done (as the cancel func of WithDeadline would be called).
type requestContext struct {
	parent   context.Context
	deadline time.Time
	log      *reqlog.Request // nil: none
	client   *netip.Addr     // nil: none
	// principal is filled in by auth.Bearer (nil: Bearer copies the request).
	principal *auth.PrincipalSlot

	inner atomic.Pointer[lazyDeadline] // set once, under mu
	mu    sync.Mutex
	ended bool // end was called: inner, when made, is cancelled at once
}

type lazyDeadline struct {
	ctx    context.Context
	cancel context.CancelFunc
}

var _ context.Context = (*requestContext)(nil)

func (c *requestContext) init(parent context.Context, deadline time.Time, log *reqlog.Request, client *netip.Addr) {
	c.parent, c.deadline, c.log, c.client = parent, deadline, log, client
}

// materialize returns inner, making it on first use.
func (c *requestContext) materialize() *lazyDeadline {
	if in := c.inner.Load(); in != nil {
		return in
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if in := c.inner.Load(); in != nil {
		return in
	}
	ctx, cancel := context.WithDeadline(c.parent, c.deadline)
	in := &lazyDeadline{ctx: ctx, cancel: cancel}
	c.inner.Store(in)
	if c.ended {
		cancel()
	}
	return in
}

// end releases the context, as WithDeadline's cancel func does: from now on it is
// done (Canceled) unless its deadline or its parent ended it first.
func (c *requestContext) end() {
	c.mu.Lock()
	c.ended = true
	in := c.inner.Load()
	c.mu.Unlock()
	if in != nil {
		in.cancel()
	}
}

// Deadline is the earlier of the parent's deadline and this one, as WithDeadline's.
func (c *requestContext) Deadline() (time.Time, bool) {
	if d, ok := c.parent.Deadline(); ok && d.Before(c.deadline) {
		return d, true
	}
	return c.deadline, true
}

func (c *requestContext) Done() <-chan struct{} { return c.materialize().ctx.Done() }

func (c *requestContext) Err() error {
	if in := c.inner.Load(); in != nil {
		return in.ctx.Err()
	}
	c.mu.Lock()
	ended := c.ended
	c.mu.Unlock()
	if ended || c.parent.Err() != nil || !time.Now().Before(c.deadline) {
		return c.materialize().ctx.Err()
	}
	return nil
}

// Value answers the log context's key and the client address's itself, and otherwise from inner once it
// exists: context.Cause and the contexts derived from this one find the cancelCtx
// they need through Value.
func (c *requestContext) Value(key any) any {
	if c.log != nil && reqlog.IsKey(key) {
		return c.log
	}
	if c.client != nil && ratelimit.IsClientKey(key) {
		return c.client
	}
	if c.principal != nil && auth.IsPrincipalKey(key) {
		return c.principal
	}
	if in := c.inner.Load(); in != nil {
		return in.ctx.Value(key)
	}
	return c.parent.Value(key)
}

func (c *requestContext) String() string { return "server.requestContext" }
