package webauth_test

import (
	"testing"

	"github.com/linkbff/linkbff/internal/testkit"
	"github.com/linkbff/linkbff/internal/webauth"
	"github.com/linkbff/linkbff/internal/webauth/registrytest"
)

func TestMemoryRegistry(t *testing.T) {
	registrytest.Run(t, func(_ *testing.T, clock *testkit.Clock) webauth.Registry {
		return webauth.NewMemoryRegistry(clock.Now)
	}, nil)
}
