package redisstore_test

import (
	"sync"
	"testing"

	"github.com/linkbff/linkbff/internal/store/redisstore"
	"github.com/linkbff/linkbff/internal/testkit"
	"github.com/linkbff/linkbff/internal/webauth"
	"github.com/linkbff/linkbff/internal/webauth/registrytest"
)

var _ webauth.Registry = (*redisstore.Registry)(nil)

// TestRegistryContract: webauth's Registry contract, every cross-registry step
// through a second client on the same prefix and clock, as another replica.
func TestRegistryContract(t *testing.T) {
	var (
		mu       sync.Mutex
		backends = map[webauth.Registry]*backend{}
	)
	open := func(t *testing.T, be *backend) webauth.Registry {
		r := redisstore.NewRegistry(newClient(t, be.url), redisstore.Options{Prefix: be.prefix, Now: be.clock.Now})
		mu.Lock()
		defer mu.Unlock()
		backends[r] = be
		return r
	}
	registrytest.Run(t, func(t *testing.T, clock *testkit.Clock) webauth.Registry {
		return open(t, newBackend(t, clock))
	}, func(t *testing.T, r webauth.Registry) webauth.Registry {
		mu.Lock()
		be := backends[r]
		mu.Unlock()
		return open(t, be)
	})
}
