package mgmt_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/internal/account"
	"github.com/linkbff/linkbff/internal/mgmt"
)

func TestGetUser(t *testing.T) {
	f := newFake(t, writeRaw(http.StatusOK, userJSON))
	c := newClient(t, f)

	got, err := c.GetUser(t.Context(), "auth0|5f7c8ec7c33c6c004bbafe82")
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	want := &account.User{
		UserID:        "auth0|5f7c8ec7c33c6c004bbafe82",
		Email:         "ada@example.com",
		EmailVerified: true,
		Name:          "Ada Lovelace",
		Picture:       "https://example.com/ada.png",
		Identities:    wantIdentities,
		UserMetadata: map[string]any{
			"theme":  "dark",
			"visits": json.Number("12345678901234567"), // exact, not 1.2345678901234568e+16
			"nested": map[string]any{"ratio": json.Number("0.5")},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("user (-want +got):\n%s", diff)
	}
	f.wantOneRequest(t, http.MethodGet, "/api/v2/users/auth0%7C5f7c8ec7c33c6c004bbafe82", "")
}

func TestUpdateUserMetadata(t *testing.T) {
	tests := []struct {
		name     string
		metadata map[string]any
		wantBody string
	}{
		{
			name:     "merge and remove keys",
			metadata: map[string]any{"theme": "dark", "old": nil, "visits": json.Number("12345678901234567")},
			wantBody: `{"user_metadata":{"old":null,"theme":"dark","visits":12345678901234567}}`,
		},
		{
			name:     "nil map is a no-op object, never null",
			metadata: nil,
			wantBody: `{"user_metadata":{}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, writeRaw(http.StatusOK, userJSON))
			c := newClient(t, f)
			if err := c.UpdateUserMetadata(t.Context(), "auth0|abc", tt.metadata); err != nil {
				t.Fatalf("UpdateUserMetadata: %v", err)
			}
			f.wantOneRequest(t, http.MethodPatch, "/api/v2/users/auth0%7Cabc", tt.wantBody)
		})
	}
}

func TestLinkWithToken(t *testing.T) {
	f := newFake(t, writeRaw(http.StatusCreated, identitiesJSON))
	c := newClient(t, f)

	got, err := c.LinkWithToken(t.Context(), "auth0|abc", "eyJhbGciOiJSUzI1NiJ9.payload.sig")
	if err != nil {
		t.Fatalf("LinkWithToken: %v", err)
	}
	if diff := cmp.Diff(wantIdentities, got); diff != "" {
		t.Errorf("identities (-want +got):\n%s", diff)
	}
	f.wantOneRequest(t, http.MethodPost, "/api/v2/users/auth0%7Cabc/identities", `{"link_with":"eyJhbGciOiJSUzI1NiJ9.payload.sig"}`)
}

func TestLinkIdentity(t *testing.T) {
	f := newFake(t, writeRaw(http.StatusCreated, identitiesJSON))
	c := newClient(t, f)

	got, err := c.LinkIdentity(t.Context(), "auth0|abc", "oauth2", "custom-conn|42")
	if err != nil {
		t.Fatalf("LinkIdentity: %v", err)
	}
	if diff := cmp.Diff(wantIdentities, got); diff != "" {
		t.Errorf("identities (-want +got):\n%s", diff)
	}
	f.wantOneRequest(t, http.MethodPost, "/api/v2/users/auth0%7Cabc/identities", `{"provider":"oauth2","user_id":"custom-conn|42"}`)
}

func TestUnlink(t *testing.T) {
	// Auth0 answers with the identities that remain.
	f := newFake(t, writeRaw(http.StatusOK, `[{"connection":"Username-Password-Authentication","user_id":"abc","provider":"auth0","isSocial":false}]`))
	c := newClient(t, f)

	got, err := c.Unlink(t.Context(), "auth0|abc", "github", "12345678901234")
	if err != nil {
		t.Fatalf("Unlink: %v", err)
	}
	wantIDs := []account.Identity{{Provider: "auth0", UserID: "abc", Connection: "Username-Password-Authentication"}}
	if diff := cmp.Diff(wantIDs, got); diff != "" {
		t.Errorf("identities (-want +got):\n%s", diff)
	}
	f.wantOneRequest(t, http.MethodDelete, "/api/v2/users/auth0%7Cabc/identities/github/12345678901234", "")
}

// Every id, provider and identity user_id must arrive as exactly one path
// segment, whatever it contains; otherwise a crafted id could address another
// user or another endpoint.
func TestPathSegmentsAreEscaped(t *testing.T) {
	tests := []struct {
		raw, escaped string
	}{
		{"auth0|abc", "auth0%7Cabc"},
		{"a/b", "a%2Fb"},
		{"a%2Fb", "a%252Fb"},
		{"a?b=c", "a%3Fb=c"},
		{"a#frag", "a%23frag"},
		{"../../oauth/token", "..%2F..%2Foauth%2Ftoken"},
		{"..%2F..", "..%252F.."},
		{"oauth2|conn|id with space", "oauth2%7Cconn%7Cid%20with%20space"},
		{"ü;x,y", "%C3%BC%3Bx%2Cy"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodGet {
					writeRaw(http.StatusOK, userJSON)(w, r)
					return
				}
				writeRaw(http.StatusOK, identitiesJSON)(w, r)
			})
			c := newClient(t, f)
			ctx := t.Context()
			if _, err := c.GetUser(ctx, tt.raw); err != nil {
				t.Fatalf("GetUser: %v", err)
			}
			if err := c.UpdateUserMetadata(ctx, tt.raw, map[string]any{"k": "v"}); err != nil {
				t.Fatalf("UpdateUserMetadata: %v", err)
			}
			if _, err := c.LinkWithToken(ctx, tt.raw, "tok"); err != nil {
				t.Fatalf("LinkWithToken: %v", err)
			}
			if _, err := c.LinkIdentity(ctx, tt.raw, "p", "u"); err != nil {
				t.Fatalf("LinkIdentity: %v", err)
			}
			if _, err := c.Unlink(ctx, tt.raw, tt.raw, tt.raw); err != nil {
				t.Fatalf("Unlink: %v", err)
			}
			e := tt.escaped
			want := []string{
				"/api/v2/users/" + e,
				"/api/v2/users/" + e,
				"/api/v2/users/" + e + "/identities",
				"/api/v2/users/" + e + "/identities",
				"/api/v2/users/" + e + "/identities/" + e + "/" + e,
			}
			var gotURI, gotEscaped []string
			for _, r := range f.requests() {
				gotURI = append(gotURI, r.RequestURI)
				gotEscaped = append(gotEscaped, r.EscapedPath)
				// Each escaped segment decodes back to the raw value.
				for i, seg := range strings.Split(r.EscapedPath, "/") {
					if i == 4 || i >= 6 {
						if dec, err := url.PathUnescape(seg); err != nil || dec != tt.raw {
							t.Errorf("%s %s: segment %d decodes to %q, %v; want %q", r.Method, r.EscapedPath, i, dec, err, tt.raw)
						}
					}
				}
			}
			if diff := cmp.Diff(want, gotURI); diff != "" {
				t.Errorf("request URIs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, gotEscaped); diff != "" {
				t.Errorf("server-side EscapedPath (-want +got):\n%s", diff)
			}
		})
	}
}

// Empty, "." and ".." cannot name a resource: they would address the user
// list or a parent path. They are refused without any upstream traffic.
func TestInvalidArgumentsSendNothing(t *testing.T) {
	f := newFake(t, writeRaw(http.StatusOK, userJSON))
	c := newClient(t, f)
	ctx := t.Context()
	calls := map[string]func() error{
		"GetUser empty":             func() error { _, err := c.GetUser(ctx, ""); return err },
		"GetUser dotdot":            func() error { _, err := c.GetUser(ctx, ".."); return err },
		"UpdateUserMetadata dot":    func() error { return c.UpdateUserMetadata(ctx, ".", nil) },
		"LinkWithToken no token":    func() error { _, err := c.LinkWithToken(ctx, "auth0|a", ""); return err },
		"LinkWithToken no user":     func() error { _, err := c.LinkWithToken(ctx, "", "tok"); return err },
		"LinkIdentity no provider":  func() error { _, err := c.LinkIdentity(ctx, "auth0|a", "", "1"); return err },
		"LinkIdentity no user id":   func() error { _, err := c.LinkIdentity(ctx, "auth0|a", "github", ""); return err },
		"Unlink dotdot provider":    func() error { _, err := c.Unlink(ctx, "auth0|a", "..", "1"); return err },
		"Unlink dot identity":       func() error { _, err := c.Unlink(ctx, "auth0|a", "github", "."); return err },
		"Unlink empty primary":      func() error { _, err := c.Unlink(ctx, "", "github", "1"); return err },
		"Unlink empty identity uid": func() error { _, err := c.Unlink(ctx, "auth0|a", "github", ""); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, mgmt.ErrInvalidArgument) {
			t.Errorf("%s: err = %v, want ErrInvalidArgument", name, err)
		}
	}
	if n, m := f.tokenRequests.Load(), f.apiRequests.Load(); n != 0 || m != 0 {
		t.Errorf("token requests = %d, API requests = %d; want 0, 0", n, m)
	}
}

func TestIdentityUserIDStringOrNumber(t *testing.T) {
	tests := []struct {
		name, userID string // userID is raw JSON
		want         string
		wantErr      bool
	}{
		{name: "string", userID: `"108091299999329986433"`, want: "108091299999329986433"},
		{name: "string with pipe", userID: `"conn|42"`, want: "conn|42"},
		{name: "number stays exact", userID: `12345678901234`, want: "12345678901234"},
		{name: "number beyond float64 precision", userID: `123456789012345678901`, want: "123456789012345678901"},
		{name: "null", userID: `null`, want: ""},
		{name: "bool", userID: `true`, wantErr: true},
		{name: "object", userID: `{"id":1}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"user_id":"auth0|a","identities":[{"provider":"github","connection":"github","isSocial":true,"user_id":` + tt.userID + `}]}`
			f := newFake(t, writeRaw(http.StatusOK, body))
			c := newClient(t, f)
			u, err := c.GetUser(t.Context(), "auth0|a")
			if tt.wantErr {
				ue, ok := errors.AsType[*mgmt.UnavailableError](err)
				if !ok || ue.StatusCode != http.StatusOK {
					t.Fatalf("err = %v, want UnavailableError for an undecodable 200", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("GetUser: %v", err)
			}
			want := []account.Identity{{Provider: "github", UserID: tt.want, Connection: "github", IsSocial: true}}
			if diff := cmp.Diff(want, u.Identities); diff != "" {
				t.Errorf("identities (-want +got):\n%s", diff)
			}
		})
	}
}

// IdP tokens in the Management API's answer must not survive into anything a
// caller could serialize.
func TestIdPTokensNeverReturned(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			writeRaw(http.StatusOK, userJSON)(w, r)
			return
		}
		writeRaw(http.StatusOK, identitiesJSON)(w, r)
	})
	c := newClient(t, f)
	ctx := t.Context()
	results := map[string]func() (any, error){
		"GetUser":       func() (any, error) { return c.GetUser(ctx, "auth0|a") },
		"LinkWithToken": func() (any, error) { return c.LinkWithToken(ctx, "auth0|a", "tok") },
		"LinkIdentity":  func() (any, error) { return c.LinkIdentity(ctx, "auth0|a", "github", "1") },
		"Unlink":        func() (any, error) { return c.Unlink(ctx, "auth0|a", "github", "1") },
	}
	for name, call := range results {
		v, err := call()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s: marshal: %v", name, err)
		}
		for _, secret := range idpSecrets {
			if strings.Contains(string(b), secret) {
				t.Errorf("%s result contains %q: %s", name, secret, b)
			}
		}
		// The fixture's identities must all have come through, so the check
		// above looked at real data.
		if !strings.Contains(string(b), "12345678901234") {
			t.Errorf("%s result lacks the GitHub identity: %s", name, b)
		}
	}
}

func BenchmarkGetUser(b *testing.B) {
	f := newFake(b, writeRaw(http.StatusOK, userJSON))
	c := newClient(b, f)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.GetUser(ctx, "auth0|5f7c8ec7c33c6c004bbafe82"); err != nil {
			b.Fatal(err)
		}
	}
	if n := f.tokenRequests.Load(); n != 1 {
		b.Errorf("token requests = %d, want 1", n)
	}
}
