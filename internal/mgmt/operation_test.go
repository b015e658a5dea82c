package mgmt_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/internal/mgmt"
)

// callerKey marks the context of the call that caused a request.
type callerKey struct{}

// seenOperation is what WrapTransport's transport saw of one request.
type seenOperation struct {
	Name, Template string
	Caller         any // the callerKey value in the request's context
}

// TestOperationNamesEveryRequest: every request the client sends, the token
// request included, goes through WrapTransport's transport, in a context that
// carries the values of the call that caused it (a trace span, in linkbff), and
// Operation names it with a template free of the ids and the email it carries.
func TestOperationNamesEveryRequest(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			if r.URL.Path == "/api/v2/users-by-email" {
				writeRaw(http.StatusOK, "["+userJSON+"]")(w, r)
				return
			}
			writeRaw(http.StatusOK, userJSON)(w, r)
		case http.MethodPatch:
			writeRaw(http.StatusOK, `{}`)(w, r)
		case http.MethodPost:
			writeRaw(http.StatusCreated, identitiesJSON)(w, r)
		case http.MethodDelete:
			writeRaw(http.StatusOK, identitiesJSON)(w, r)
		}
	})
	var (
		mu   sync.Mutex
		seen []seenOperation
	)
	c := newClient(t, f, func(cfg *mgmt.Config) {
		cfg.WrapTransport = func(base http.RoundTripper) http.RoundTripper {
			return opRoundTripper(func(r *http.Request) (*http.Response, error) {
				name, tmpl := mgmt.Operation(r)
				mu.Lock()
				seen = append(seen, seenOperation{name, tmpl, r.Context().Value(callerKey{})})
				mu.Unlock()
				return base.RoundTrip(r)
			})
		}
	})
	const user = "auth0|5f7c8ec7c33c6c004bbafe82"
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"get", func(ctx context.Context) error { _, err := c.GetUser(ctx, user); return err }},
		{"patch", func(ctx context.Context) error { return c.UpdateUserMetadata(ctx, user, map[string]any{"a": 1}) }},
		{"link", func(ctx context.Context) error { _, err := c.LinkIdentity(ctx, user, "github", "4242"); return err }},
		{"unlink", func(ctx context.Context) error { _, err := c.Unlink(ctx, user, "github", "4242"); return err }},
		{"search", func(ctx context.Context) error { _, err := c.UsersByEmail(ctx, "ada@example.com"); return err }},
	}
	for _, call := range calls {
		if err := call.call(context.WithValue(t.Context(), callerKey{}, call.name)); err != nil {
			t.Fatalf("%s: %v", call.name, err)
		}
	}
	want := []seenOperation{
		{"token", "/oauth/token", "get"}, // fetched for the first call, in its context
		{"get_user", "/api/v2/users/{id}", "get"},
		{"patch_user", "/api/v2/users/{id}", "patch"},
		{"link", "/api/v2/users/{id}/identities", "link"},
		{"unlink", "/api/v2/users/{id}/identities/{provider}/{user_id}", "unlink"},
		{"users_by_email", "/api/v2/users-by-email", "search"},
	}
	mu.Lock()
	defer mu.Unlock()
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("requests seen (-want +got):\n%s", diff)
	}
}

// TestOperationReadsTheClientsMark: Operation names a request by the Endpoint the
// client marked it with, the one its metrics are counted under, and never guesses
// from a path: a request the client did not send is nobody's, whatever its path.
func TestOperationReadsTheClientsMark(t *testing.T) {
	for _, tc := range []struct{ method, url string }{
		{http.MethodPost, "https://t.example/oauth/token"},
		{http.MethodGet, "https://t.example/api/v2/users/x"},
		{http.MethodDelete, "https://t.example/api/v2/users/x/identities/github/1"},
		{http.MethodGet, "https://t.example/api/v2/clients"},
		{http.MethodGet, "https://t.example/"},
	} {
		r, err := http.NewRequest(tc.method, tc.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if name, tmpl := mgmt.Operation(r); name != "" || tmpl != "" {
			t.Errorf("%s %s, not sent by the client: Operation = %q, %q; want none", tc.method, tc.url, name, tmpl)
		}
	}
}

// TestEndpointsAllNamed: every endpoint the client lists is one Operation names,
// each with a path template of its own (but get_user and patch_user, one resource).
func TestEndpointsAllNamed(t *testing.T) {
	eps := mgmt.Endpoints()
	if len(eps) != 6 || eps[len(eps)-1] != mgmt.EndpointToken {
		t.Fatalf("Endpoints() = %v, want the six, token last", eps)
	}
	templates := map[string][]mgmt.Endpoint{}
	for _, ep := range eps {
		name, tmpl := mgmt.Operation(mgmt.MarkedRequest(t, ep))
		if name != string(ep) || tmpl == "" {
			t.Errorf("%s: Operation = %q, %q", ep, name, tmpl)
		}
		templates[tmpl] = append(templates[tmpl], ep)
	}
	if len(templates) != len(eps)-1 {
		t.Errorf("templates %v, want one per endpoint but get_user and patch_user's", templates)
	}
}

type opRoundTripper func(*http.Request) (*http.Response, error)

func (f opRoundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
