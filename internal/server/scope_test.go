package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/internal/fault"
)

// Each /me operation needs its scope: the read scope to list, the write scope for the
// nonce, link and unlink. Without it the answer is 403 insufficient_scope with the
// RFC 6750 §3.1 challenge naming the scope, and the identity service is not called.
func TestOperationsNeedTheirScope(t *testing.T) {
	s := newTestServer(t, serverOptions{readScope: "identities:r", writeScope: "identities:w"})
	ops := []struct {
		method, path, body, scope string
	}{
		{"GET", "/me/identities", "", "identities:r"},
		{"POST", "/me/identities/nonce", "", "identities:w"},
		{"POST", "/me/identities", `{"link_with":"a.b.c"}`, "identities:w"},
		{"DELETE", "/me/identities/github/4242", "", "identities:w"},
	}
	for _, op := range ops {
		t.Run(op.method+" "+op.path, func(t *testing.T) {
			send := func(scope string) response {
				h := map[string]string{"Authorization": "Bearer " + scopedAccessToken(t, s.issuer, "auth0|alice", scope)}
				if op.body != "" {
					h["Content-Type"] = "application/json"
				}
				return s.do(t, op.method, op.path, strings.NewReader(op.body), h)
			}
			s.ids.resetCalls()
			for _, scope := range []string{"", "openid profile", "identities:rw", other(op.scope)} {
				r := send(scope)
				wantProblem(t, r, http.StatusForbidden, fault.InsufficientScope)
				want := `Bearer realm="linkbff", error="insufficient_scope", scope="` + op.scope + `"`
				if got := r.header.Get("WWW-Authenticate"); got != want {
					t.Errorf("scope %q: WWW-Authenticate = %q, want %q", scope, got, want)
				}
			}
			if diff := cmp.Diff([]string(nil), s.ids.callLog()); diff != "" {
				t.Errorf("identity service called without the scope (-want +got):\n%s", diff)
			}
			if r := send("openid " + op.scope); r.status == http.StatusForbidden || r.status == http.StatusUnauthorized {
				t.Errorf("with %s: status %d %s, want the operation to run", op.scope, r.status, r.body)
			}
			if len(s.ids.callLog()) != 1 {
				t.Errorf("with %s: identity calls %v, want one", op.scope, s.ids.callLog())
			}
		})
	}
}

// other returns the scope the operation does not need.
func other(scope string) string {
	if scope == "identities:r" {
		return "identities:w"
	}
	return "identities:r"
}

// Without scopes configured (REQUIRE_SCOPES=false), any valid token may do anything.
func TestNoScopesConfiguredRequiresNone(t *testing.T) {
	s := newTestServer(t, serverOptions{})
	if r := s.do(t, "GET", "/me/identities", nil, map[string]string{"Authorization": s.bearer(t)}); r.status != http.StatusOK {
		t.Errorf("status %d %s, want 200", r.status, r.body)
	}
}
