// Package devtenanttest gives tests a running development tenant: started for one
// test and closed when it ends. Tests alone import it.
package devtenanttest

import (
	"testing"

	"github.com/linkbff/linkbff/internal/devtenant"
)

// Start starts a development tenant of opts (the demo seed unless opts.Seed is set)
// on a loopback port, closed when tb ends.
func Start(tb testing.TB, opts devtenant.Options) *devtenant.Tenant {
	tb.Helper()
	tenant, err := devtenant.Start(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { tenant.Close() })
	return tenant
}

// DemoPicture is the picture the demo seed gives the user userID.
func DemoPicture(tb testing.TB, userID string) string {
	tb.Helper()
	for _, u := range devtenant.DemoSeed().Users {
		if u.UserID == userID {
			return u.Picture
		}
	}
	tb.Fatalf("the demo seed has no user %s", userID)
	return ""
}
