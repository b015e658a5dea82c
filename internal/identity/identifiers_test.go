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
