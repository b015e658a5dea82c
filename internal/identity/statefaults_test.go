package identity_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/identity"
)

// A link or unlink that waits for the account's lock until its deadline is answered
// 503 account_busy with Retry-After: another change holds the lock, and Auth0 was
// never called, so the answer must not blame Auth0.
func TestWriteWaitingForTheLockIsAccountBusy(t *testing.T) {
	writes := map[string]func(ctx context.Context, svc *identity.Service) error{
		"link": func(ctx context.Context, svc *identity.Service) error {
			_, err := svc.Link(ctx, alice, "tok-google")
			return err
		},
		"unlink": func(ctx context.Context, svc *identity.Service) error {
			_, err := svc.Unlink(ctx, alice, "google-oauth2", "1077")
			return err
		},
	}
	for name, write := range writes {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFixture(t, nil)
				unlock, err := f.store.Lock(context.Background(), alice) // another change in progress
				if err != nil {
					t.Fatal(err)
				}
				defer unlock()
				ctx, cancel := context.WithTimeout(quietCtx(), 10*time.Second)
				defer cancel()
				err = write(ctx, f.svc) // returns once the bubble's clock reaches the deadline
				p := wantProblem(t, err, 503, fault.AccountBusy)
				if p.RetryAfter != time.Second {
					t.Errorf("RetryAfter = %v, want 1s", p.RetryAfter)
				}
				if strings.Contains(p.Detail, "Auth0") {
					t.Errorf("detail %q blames Auth0, which was not called", p.Detail)
				}
				f.wantCalls(t)
			})
		})
	}
}

// A caller that goes away while waiting for the lock is logged as client_closed.
func TestLinkCancelledWhileWaitingForTheLock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, nil)
		unlock, err := f.store.Lock(context.Background(), alice)
		if err != nil {
			t.Fatal(err)
		}
		defer unlock()
		ctx, cancel := context.WithCancel(quietCtx())
		errs := make(chan error, 1)
		go func() {
			_, err := f.svc.Link(ctx, alice, "tok-google")
			errs <- err
		}()
		synctest.Wait() // Link is waiting for the lock
		cancel()
		wantProblem(t, <-errs, 499, fault.ClientClosed)
		f.wantCalls(t)
	})
}

// brokenStore is shared state that cannot be reached: intents and locks fail with
// err; the read cache still works (its failures are only logged).
type brokenStore struct {
	identity.Store
	err error
}

func (s brokenStore) PutIntent(context.Context, string, string, time.Duration) error { return s.err }

func (s brokenStore) ConsumeIntent(context.Context, string, string) (bool, error) {
	return false, s.err
}

func (s brokenStore) Lock(context.Context, string) (func(), error) { return nil, s.err }

// Shared state that cannot be reached is 503 store_unavailable with Retry-After, for
// issuing a nonce, consuming one, and taking the account's lock, before any call to
// Auth0.
func TestStoreUnavailable(t *testing.T) {
	refused := errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")
	tests := map[string]func(f *fixture, svc *identity.Service) error{
		"nonce": func(_ *fixture, svc *identity.Service) error {
			_, err := svc.NewIntent(quietCtx(), alice)
			return err
		},
		"link consuming the nonce": func(f *fixture, svc *identity.Service) error {
			tok := f.ver.tokens["tok-google"]
			tok.Nonce = "n-1"
			f.ver.tokens["tok-google"] = tok
			_, err := svc.Link(quietCtx(), alice, "tok-google")
			return err
		},
		"link taking the lock": func(_ *fixture, svc *identity.Service) error {
			_, err := svc.Link(quietCtx(), alice, "tok-google")
			return err
		},
		"unlink taking the lock": func(_ *fixture, svc *identity.Service) error {
			_, err := svc.Unlink(quietCtx(), alice, "google-oauth2", "1077")
			return err
		},
	}
	for name, call := range tests {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, nil)
			cfg := identity.Config{
				ClientID:             clientID,
				MaxAge:               5 * time.Minute,
				RequireVerifiedEmail: true,
				RequireNonce:         name == "link consuming the nonce",
				NonceTTL:             5 * time.Minute,
				CacheTTL:             cacheTTL,
				Now:                  f.clock.Now,
			}
			svc := identity.New(cfg, f.up, f.ver, brokenStore{Store: f.store, err: refused})
			err := call(f, svc)
			p := wantProblem(t, err, 503, fault.StoreUnavailable)
			if p.RetryAfter != fault.StoreRetryAfter {
				t.Errorf("RetryAfter = %v, want %v", p.RetryAfter, fault.StoreRetryAfter)
			}
			if !errors.Is(err, refused) {
				t.Errorf("error %v lost its cause", err)
			}
			f.wantCalls(t)
		})
	}
}

// stalledCache is a store whose read cache stopped answering (a Redis that accepts
// connections and never replies): every cache call waits for its context to end.
type stalledCache struct {
	identity.Store
	cacheCalls int
}

func (s *stalledCache) GetView(ctx context.Context, _ string) (identity.View, bool, error) {
	s.cacheCalls++
	<-ctx.Done()
	return identity.View{}, false, ctx.Err()
}

func (s *stalledCache) SetView(ctx context.Context, _ string, _ identity.View, _ time.Duration) error {
	s.cacheCalls++
	<-ctx.Done()
	return ctx.Err()
}

// A read cache that stopped answering costs a read one CacheTimeout, not the
// request's deadline: the read is served by Auth0 and the cache is not asked again.
func TestListWithAStalledCacheIsServedByAuth0WithinCacheTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, nil)
		store := &stalledCache{Store: f.store}
		svc := identity.New(identity.Config{CacheTTL: time.Minute, CacheTimeout: 300 * time.Millisecond}, f.up, f.ver, store)
		ctx, cancel := context.WithTimeout(quietCtx(), 10*time.Second)
		defer cancel()
		start := time.Now()
		v, err := svc.List(ctx, alice)
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if got := time.Since(start); got != 300*time.Millisecond {
			t.Errorf("List took %v, want one CacheTimeout (300ms)", got)
		}
		if v.UserID != alice || len(v.Identities) != 1 {
			t.Errorf("List = %+v, want alice's one identity", v)
		}
		if store.cacheCalls != 1 {
			t.Errorf("%d cache calls, want 1 (no re-check, no write after a failed read)", store.cacheCalls)
		}
		f.wantCalls(t, "GetUser "+alice)
	})
}
