package memstore_test

import (
	"testing"

	"github.com/linkbff/linkbff/internal/identity"
	"github.com/linkbff/linkbff/internal/identity/storetest"
	"github.com/linkbff/linkbff/internal/store/memstore"
	"github.com/linkbff/linkbff/internal/testkit"
)

// TestContract runs identity's store contract. Locks have no TTL: a holder lives in
// this process and dies with the store.
func TestContract(t *testing.T) {
	storetest.Run(t, func(_ *testing.T, clock *testkit.Clock) identity.Store {
		return memstore.New(memstore.Options{Now: clock.Now})
	}, storetest.Options{})
}
