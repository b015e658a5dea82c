package identity_test

import (
	"net/http"
	"testing"

	"github.com/linkbff/linkbff/internal/account"
	"github.com/linkbff/linkbff/internal/fault"
)

// Identifiers first: a caller whose user id is not of Auth0's shape never reaches
// the Management API, whatever authenticated it.
func TestCallerUserIDCheckedBeforeAuth0(t *testing.T) {
	for _, caller := range []string{"", "alice", "auth0|", "|alice", "auth0|a/b", "auth0|..", "Auth0|alice", "auth0|a%2F..", "auth0|a b"} {
		t.Run(caller, func(t *testing.T) {
			f := newFixture(t, nil)
			_, err := f.svc.List(quietCtx(), caller)
			wantProblem(t, err, http.StatusUnauthorized, fault.InvalidToken)
			_, err = f.svc.Link(quietCtx(), caller, "tok-google")
			wantProblem(t, err, http.StatusUnauthorized, fault.InvalidToken)
			_, err = f.svc.Unlink(quietCtx(), caller, "github", "4242")
			wantProblem(t, err, http.StatusUnauthorized, fault.InvalidToken)
			f.wantCalls(t)
		})
	}
}

// The secondary login's sub goes into Management API URLs and bodies: a verified
// token whose sub is not of Auth0's shape is refused before any call.
func TestLinkSecondarySubCheckedBeforeAuth0(t *testing.T) {
	for _, sub := range []string{"github", "github|", "GitHub|42", "github|42/../alice", "github|..", "github|4%2F2", "github|4 2"} {
		t.Run(sub, func(t *testing.T) {
			f := newFixture(t, nil)
			f.ver.tokens["tok-odd"] = account.IDToken{Subject: sub, Audience: clientID, EmailVerified: true, IssuedAt: f.clock.Now()}
			_, err := f.svc.Link(quietCtx(), alice, "tok-odd")
			wantProblem(t, err, http.StatusBadRequest, fault.InvalidLinkToken)
			f.wantCalls(t)
		})
	}
}

// FuzzLinkSubject once found sub "0": with no "|", a link by {provider, user_id}
// (the token's audience is another client) split it into provider "0" and an empty
// user id. A sub without "|" is refused before any Management API call, whether
// the fake tenant knows such a user or not.
func TestLinkSubjectWithoutSeparatorRefused(t *testing.T) {
	for _, sub := range []string{"0", "github", "auth0alice"} {
		t.Run(sub, func(t *testing.T) {
			f := newFixture(t, nil)
			tok := f.ver.tokens["tok-native"]
			tok.Subject = sub
			f.ver.tokens["tok-odd"] = tok
			f.up.users[sub] = &account.User{UserID: sub}
			_, err := f.svc.Link(quietCtx(), alice, "tok-odd")
			wantProblem(t, err, http.StatusBadRequest, fault.InvalidLinkToken)
			f.wantCalls(t)
		})
	}
}

// An Auth0 404 for the caller's own user (deleted, or linked into another account
// after the credential was issued) is the caller's concern at every step that
// names it: 404 account_not_found, never a 502.
func TestCallerUserGoneIsAccountNotFound(t *testing.T) {
	gone := fault.Failure{Kind: fault.NotFound, Message: "The user does not exist."}
	tests := []struct {
		name string
		fail string // the failing call, as fakeUpstream keys it
		run  func(f *fixture) error
	}{
		{"list", "GetUser", func(f *fixture) error { _, err := f.svc.List(quietCtx(), alice); return err }},
		{"link: reading the primary", "GetUser auth0|alice", func(f *fixture) error { _, err := f.svc.Link(quietCtx(), alice, "tok-google"); return err }},
		{"link: merging metadata", "UpdateUserMetadata", func(f *fixture) error { _, err := f.svc.Link(quietCtx(), alice, "tok-google"); return err }},
		{"link: the link call", "LinkWithToken", func(f *fixture) error { _, err := f.svc.Link(quietCtx(), alice, "tok-google"); return err }},
		{"unlink: the unlink call", "Unlink", func(f *fixture) error {
			f.up.users[alice].Identities = append(f.up.users[alice].Identities, account.Identity{Provider: "github", UserID: "4242"})
			_, err := f.svc.Unlink(quietCtx(), alice, "github", "4242")
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.up.fail = map[string]error{tt.fail: gone}
			wantProblem(t, tt.run(f), http.StatusNotFound, fault.AccountNotFound)
		})
	}
	// The secondary's user missing is not the caller's account: the link token is.
	f := newFixture(t, nil)
	f.up.fail = map[string]error{"GetUser google-oauth2|1077": gone}
	_, err := f.svc.Link(quietCtx(), alice, "tok-google")
	wantProblem(t, err, http.StatusBadRequest, fault.InvalidLinkToken)
}
