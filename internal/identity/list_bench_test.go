package identity_test

// Micro-benchmarks of the service's own share of the hot path (a warm List) and of
// read coalescing. The whole request is measured in cmd/linkbff/bench_test.go; see
// BENCHMARKS.md.

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/account"
	"github.com/linkbff/linkbff/internal/identity"
	"github.com/linkbff/linkbff/internal/store/memstore"
)

// benchUpstream answers GetUser with one fixed user and counts the reads; the other
// calls are not used by these benchmarks.
type benchUpstream struct {
	identity.Upstream
	user  *account.User
	reads int
}

func (u *benchUpstream) GetUser(context.Context, string) (*account.User, error) {
	u.reads++
	return u.user, nil
}

// benchUser has a primary and two linked identities, as after two links.
func benchUser() *account.User {
	return &account.User{
		UserID: "auth0|alice", Email: "alice@example.com", EmailVerified: true,
		Name: "Alice Example", Picture: "https://avatars.example/alice.png",
		Identities: []account.Identity{
			{Provider: "auth0", UserID: "alice", Connection: "Username-Password-Authentication"},
			{Provider: "github", UserID: "4242", Connection: "github", IsSocial: true,
				Profile: &account.Profile{Email: "alice@users.noreply.example", EmailVerified: true, Name: "alice-gh", Picture: "https://avatars.example/gh.png"}},
			{Provider: "google-oauth2", UserID: "1077", Connection: "google-oauth2", IsSocial: true,
				Profile: &account.Profile{Email: "alice@gmail.example", EmailVerified: true, Name: "Alice G"}},
		},
	}
}

// BenchmarkListWarm is Service.List with a warm memory store cache: the identity
// service's part of GET /me/identities. upstream-reads/op must be 0.
func BenchmarkListWarm(b *testing.B) {
	up := &benchUpstream{user: benchUser()}
	s := identity.New(identity.Config{CacheTTL: time.Hour}, up, nil, memstore.New(memstore.Options{}))
	ctx := context.Background()
	if _, err := s.List(ctx, "auth0|alice"); err != nil {
		b.Fatal(err)
	}
	up.reads = 0
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.List(ctx, "auth0|alice"); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(up.reads)/float64(b.N), "upstream-reads/op")
	})
	// Many users read concurrently: every read takes the store's one mutex.
	b.Run("parallel", func(b *testing.B) {
		ids := make([]string, 64)
		for i := range ids {
			ids[i] = fmt.Sprintf("auth0|u%d", i)
			if _, err := s.List(ctx, ids[i]); err != nil {
				b.Fatal(err)
			}
		}
		up.reads = 0
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, err := s.List(ctx, ids[i%len(ids)]); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
		b.ReportMetric(float64(up.reads)/float64(b.N), "upstream-reads/op")
	})
}

// slowUpstream answers GetUser after a delay, as Auth0 does, counting reads.
type slowUpstream struct {
	identity.Upstream
	delay time.Duration
	reads atomic.Int64
}

func (u *slowUpstream) GetUser(context.Context, string) (*account.User, error) {
	u.reads.Add(1)
	time.Sleep(u.delay)
	return benchUser(), nil
}

// rttStore is the memory store with cache reads that take a network round trip, as
// a shared store (Redis) would. It embeds the interface, not *memstore.Store, so
// that it does not claim to be identity.InProcess.
type rttStore struct {
	identity.Store
	rtt time.Duration
}

func (s rttStore) GetView(ctx context.Context, userID string) (identity.View, bool, error) {
	v, ok, err := s.Store.GetView(ctx, userID)
	time.Sleep(s.rtt)
	return v, ok, err
}

// BenchmarkListStaggeredMisses: one op is a cold service (upstream read 5ms, cache
// read 0.5ms) and 40 callers of one user arriving evenly over 8ms, so some arrive
// while the first read is in flight and some as it completes. upstream-reads/op must
// be 1: linkbff promises one upstream read for any number of concurrent misses of
// one user. BENCHMARKS.md records today's figure.
func BenchmarkListStaggeredMisses(b *testing.B) {
	ctx := context.Background()
	var reads int64
	for b.Loop() {
		up := &slowUpstream{delay: 5 * time.Millisecond}
		s := identity.New(identity.Config{CacheTTL: time.Hour}, up, nil, rttStore{memstore.New(memstore.Options{}), 500 * time.Microsecond})
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Go(func() {
				time.Sleep(time.Duration(i) * 200 * time.Microsecond)
				if _, err := s.List(ctx, "auth0|alice"); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
		reads += up.reads.Load()
	}
	b.ReportMetric(float64(reads)/float64(b.N), "upstream-reads/op")
}
