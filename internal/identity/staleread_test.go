package identity_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/internal/account"
	"github.com/linkbff/linkbff/internal/identity"
	"github.com/linkbff/linkbff/internal/identity/storetest"
	"github.com/linkbff/linkbff/internal/store/memstore"
	"github.com/linkbff/linkbff/internal/testkit"
)

// slowFirstRead answers the first GetUser with what it read, but only after the test
// releases it: a read that overlaps a link.
type slowFirstRead struct {
	*fakeUpstream
	once     sync.Once
	readDone chan struct{}
	release  chan struct{}
	deadline chan time.Time
}

func (s *slowFirstRead) GetUser(ctx context.Context, userID string) (*account.User, error) {
	first := false
	s.once.Do(func() { first = true })
	u, err := s.fakeUpstream.GetUser(ctx, userID)
	if first {
		dl, _ := ctx.Deadline()
		s.deadline <- dl
		close(s.readDone)
		<-s.release
	}
	return u, err
}

func newSlowFirstRead(up *fakeUpstream) *slowFirstRead {
	return &slowFirstRead{fakeUpstream: up, readDone: make(chan struct{}), release: make(chan struct{}), deadline: make(chan time.Time, 1)}
}

// staleReadConfig is the service configuration of the stale-read tests.
func staleReadConfig(f *fixture) identity.Config {
	return identity.Config{ClientID: clientID, MaxAge: 5 * time.Minute, RequireVerifiedEmail: true, NonceTTL: time.Minute, CacheTTL: cacheTTL, Now: f.clock.Now}
}

// listOverlapping starts svc.List of alice, whose upstream is up, and returns once
// its read has seen alice's identities and is held in flight; closing up.release
// lets it finish, and the channel gets what it returned.
func listOverlapping(ctx context.Context, t *testing.T, svc *identity.Service, up *slowFirstRead) <-chan identity.View {
	t.Helper()
	listed := make(chan identity.View, 1)
	go func() {
		v, err := svc.List(ctx, alice)
		if err != nil {
			t.Error(err)
		}
		listed <- v
	}()
	testkit.Recv(t, up.readDone, "the first read to reach the upstream")
	return listed
}

// TestReadOverlappingLinkDoesNotCacheStaleView: a list that read the user before a
// link finished must not overwrite the link's newer view in the cache. It runs in a
// synctest bubble, so a receive that would never complete fails the test at once
// (deadlock) instead of hanging it.
func TestReadOverlappingLinkDoesNotCacheStaleView(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, nil)
		up := newSlowFirstRead(f.up)
		svc := identity.New(staleReadConfig(f), up, f.ver, f.store)

		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		listed := listOverlapping(ctx, t, svc, up) // it has seen one identity

		if _, err := svc.Link(context.Background(), alice, "tok-google"); err != nil {
			t.Fatal(err)
		}
		close(up.release)
		if v := testkit.Recv(t, listed, "the overlapping list to return"); len(v.Identities) != 1 {
			t.Fatalf("overlapping read returned %d identities; it read before the link", len(v.Identities))
		}

		f.up.resetCalls()
		v, err := svc.List(context.Background(), alice)
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Identities) != 2 {
			t.Errorf("after the link the list shows %d identities, want 2: the stale read overwrote the cache", len(v.Identities))
		}
		if calls := f.up.callLog(); len(calls) != 0 {
			t.Errorf("list after link called upstream: %v", calls)
		}

		// The shared read ran under the first caller's deadline, not a fixed one.
		want, _ := ctx.Deadline()
		if got := <-up.deadline; !got.Equal(want) {
			t.Errorf("shared read deadline = %v, want the caller's %v", got, want)
		}
	})
}

// sharedStore is one memory store that two Services use, as replicas share Redis,
// with identity.SharedCache's write generations kept beside it.
type sharedStore struct {
	*memstore.Store
	mu   sync.Mutex
	gens map[string]uint64
}

func (s *sharedStore) Generation(_ context.Context, userID string) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gens[userID], nil
}

func (s *sharedStore) SetViewIf(ctx context.Context, userID string, gen uint64, v identity.View, ttl time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gens[userID] != gen {
		return false, nil
	}
	return true, s.SetView(ctx, userID, v, ttl)
}

func (s *sharedStore) Wrote(ctx context.Context, userID string, v *identity.View, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gens[userID]++
	if v == nil {
		return s.DeleteView(ctx, userID)
	}
	return s.SetView(ctx, userID, *v, ttl)
}

// TestSharedStoreKeepsTheContract: the stand-in for Redis above keeps identity's
// store contract, SharedCache included, so what these tests show of the service
// holds with a store that does.
func TestSharedStoreKeepsTheContract(t *testing.T) {
	storetest.Run(t, func(_ *testing.T, clock *testkit.Clock) identity.Store {
		return &sharedStore{Store: memstore.New(memstore.Options{Now: clock.Now}), gens: map[string]uint64{}}
	}, storetest.Options{})
}

// TestReadOverlappingLinkOnAnotherReplicaDoesNotCacheStaleView: the stale-read guard
// holds across two Services (replicas) on one shared store, which a per-process
// write counter cannot do.
func TestReadOverlappingLinkOnAnotherReplicaDoesNotCacheStaleView(t *testing.T) {
	f := newFixture(t, nil)
	store := &sharedStore{Store: f.store, gens: map[string]uint64{}}
	up := newSlowFirstRead(f.up)
	replicaA := identity.New(staleReadConfig(f), up, f.ver, store)
	replicaB := identity.New(staleReadConfig(f), f.up, f.ver, store)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	listed := listOverlapping(ctx, t, replicaA, up) // A has seen one identity

	if _, err := replicaB.Link(ctx, alice, "tok-google"); err != nil {
		t.Fatal(err)
	}
	close(up.release)
	if v := testkit.Recv(t, listed, "the overlapping list to return"); len(v.Identities) != 1 {
		t.Fatalf("overlapping read returned %d identities; it read before the link", len(v.Identities))
	}

	f.up.resetCalls()
	for name, replica := range map[string]*identity.Service{"A": replicaA, "B": replicaB} {
		v, err := replica.List(ctx, alice)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(linkedView, v); diff != "" {
			t.Errorf("list on %s after the link (-want +got):\n%s", name, diff)
		}
	}
	if calls := f.up.callLog(); len(calls) != 0 {
		t.Errorf("lists after the link called upstream: %v", calls)
	}
}
