package identity_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/internal/identity"
)

// putIntents puts nonces for subject straight into the fixture's store.
func putIntents(t *testing.T, f *fixture, subject string, nonces ...string) {
	t.Helper()
	for _, n := range nonces {
		if err := f.store.PutIntent(context.Background(), n, subject, 5*time.Minute); err != nil {
			t.Fatal(err)
		}
	}
}

func consumed(t *testing.T, f *fixture, nonce, subject string) bool {
	t.Helper()
	ok, err := f.store.ConsumeIntent(context.Background(), nonce, subject)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// After a link, Auth0 has deleted the secondary user: its pending link nonces are
// revoked and its browser sessions ended, and the caller's own nonces stay.
func TestLinkForgetsTheSecondaryUser(t *testing.T) {
	var ended []string
	f := newFixture(t, func(c *identity.Config) {
		c.EndSessions = func(_ context.Context, userID string) error {
			ended = append(ended, userID)
			return nil
		}
	})
	putIntents(t, f, "google-oauth2|1077", "g-1", "g-2")
	putIntents(t, f, alice, "a-1")
	if _, err := f.svc.Link(quietCtx(), alice, "tok-google"); err != nil {
		t.Fatalf("Link: %v", err)
	}
	if diff := cmp.Diff([]string{"google-oauth2|1077"}, ended); diff != "" {
		t.Errorf("sessions ended for (-want +got):\n%s", diff)
	}
	for _, n := range []string{"g-1", "g-2"} {
		if consumed(t, f, n, "google-oauth2|1077") {
			t.Errorf("the secondary user's nonce %s survived the link", n)
		}
	}
	if !consumed(t, f, "a-1", alice) {
		t.Error("the caller's own nonce was revoked by the link")
	}
}

// A link that fails leaves the secondary user's nonces and sessions alone; a link
// whose sessions cannot be ended still succeeds (the link has happened).
func TestLinkForgetsOnlyAfterSuccess(t *testing.T) {
	calls := 0
	f := newFixture(t, func(c *identity.Config) {
		c.EndSessions = func(context.Context, string) error {
			calls++
			return errors.New("session store down")
		}
	})
	putIntents(t, f, "github|4242", "gh-1")
	if _, err := f.svc.Link(quietCtx(), alice, "tok-unknown"); err == nil {
		t.Fatal("Link with an unknown token succeeded")
	}
	if calls != 0 || !consumed(t, f, "gh-1", "github|4242") {
		t.Errorf("a refused link ended %d sessions or revoked the nonce", calls)
	}
	putIntents(t, f, "github|4242", "gh-2")
	if _, err := f.svc.Link(quietCtx(), alice, "tok-github"); err != nil {
		t.Fatalf("Link with sessions that cannot be ended: %v, want success", err)
	}
	if calls != 1 || consumed(t, f, "gh-2", "github|4242") {
		t.Errorf("after the link: %d EndSessions calls, nonce consumable; want 1 and revoked", calls)
	}
}

// After an unlink, the account's pending link nonces are revoked.
func TestUnlinkRevokesTheAccountsNonces(t *testing.T) {
	f := newUnlinkFixture(t)
	putIntents(t, f, alice, "a-1")
	putIntents(t, f, "auth0|bob", "b-1")
	if _, err := f.svc.Unlink(quietCtx(), alice, "github", "4242"); err != nil {
		t.Fatalf("Unlink: %v", err)
	}
	if consumed(t, f, "a-1", alice) {
		t.Error("alice's nonce survived her unlink")
	}
	if !consumed(t, f, "b-1", "auth0|bob") {
		t.Error("bob's nonce was revoked by alice's unlink")
	}
}
