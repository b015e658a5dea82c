package server_test

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/identity"
)

func aliceListView(ids ...identity.Identity) identity.View {
	return identity.Seal(identity.View{UserID: "auth0|alice", Identities: append([]identity.Identity{
		{Provider: "auth0", UserID: "alice", Connection: "Username-Password-Authentication", Primary: true,
			Profile: identity.Profile{Email: "alice@example.com", EmailVerified: true, Name: "Alice"}},
	}, ids...)})
}

// wantValidators checks the headers a 200 and a 304 of GET /me/identities share.
func wantValidators(t *testing.T, r response, etag string) {
	t.Helper()
	if got := r.header.Get("ETag"); got != etag {
		t.Errorf("ETag = %q, want %q", got, etag)
	}
	if got := r.header.Get("Cache-Control"); got != "private, no-cache" {
		t.Errorf("Cache-Control = %q, want private, no-cache", got)
	}
	vary := strings.Join(r.header.Values("Vary"), ",")
	for _, want := range []string{"Authorization", "Cookie"} {
		if !slices.ContainsFunc(strings.Split(vary, ","), func(v string) bool { return strings.TrimSpace(v) == want }) {
			t.Errorf("Vary = %q, want it to name %s", vary, want)
		}
	}
}

func TestListIdentitiesConditional(t *testing.T) {
	s := newTestServer(t, serverOptions{})
	v1 := aliceListView()
	s.ids.set(func(f *fakeIdentities) { f.view = v1 })
	bearer := s.bearer(t)
	get := func(t *testing.T, ifNoneMatch ...string) response {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, s.url+"/me/identities", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", bearer)
		for _, v := range ifNoneMatch {
			req.Header.Add("If-None-Match", v)
		}
		res, err := s.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return response{status: res.StatusCode, header: res.Header, body: body}
	}
	want200 := func(t *testing.T, r response, v identity.View) {
		t.Helper()
		if r.status != http.StatusOK {
			t.Fatalf("status %d, want 200", r.status)
		}
		wantValidators(t, r, v.Doc.ETag)
		if string(r.body) != string(v.Doc.JSON) {
			t.Errorf("body %s, want the view's Doc %s", r.body, v.Doc.JSON)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q", ct)
		}
	}
	want304 := func(t *testing.T, r response, v identity.View) {
		t.Helper()
		if r.status != http.StatusNotModified {
			t.Fatalf("status %d, want 304 (body %s)", r.status, r.body)
		}
		wantValidators(t, r, v.Doc.ETag)
		if len(r.body) != 0 {
			t.Errorf("304 with a body: %q", r.body)
		}
		if ct := r.header.Get("Content-Type"); ct != "" {
			t.Errorf("304 with Content-Type %q", ct)
		}
	}

	first := get(t)
	want200(t, first, v1)
	tag := first.header.Get("ETag")

	t.Run("the tag it got", func(t *testing.T) { want304(t, get(t, tag), v1) })
	t.Run("weak form", func(t *testing.T) { want304(t, get(t, "W/"+tag), v1) })
	t.Run("in a list, on a second line", func(t *testing.T) { want304(t, get(t, `"other"`, `"x", `+tag), v1) })
	t.Run("star", func(t *testing.T) { want304(t, get(t, "*"), v1) })
	t.Run("another tag", func(t *testing.T) { want200(t, get(t, `"other"`), v1) })
	t.Run("malformed", func(t *testing.T) { want200(t, get(t, strings.Trim(tag, `"`)), v1) })

	// The list changes (a link): the old tag no longer matches, and the new one does.
	v2 := aliceListView(identity.Identity{Provider: "github", UserID: "4242", Connection: "github", IsSocial: true})
	s.ids.set(func(f *fakeIdentities) { f.view = v2 })
	t.Run("after a change", func(t *testing.T) {
		r := get(t, tag)
		want200(t, r, v2)
		if r.header.Get("ETag") == tag {
			t.Fatal("the tag did not change with the list")
		}
		want304(t, get(t, r.header.Get("ETag")), v2)
	})

	t.Run("an error is never a 304", func(t *testing.T) {
		s.ids.set(func(f *fakeIdentities) { f.err = fault.New(fault.UpstreamUnavailable, "Auth0 is down.") })
		defer s.ids.set(func(f *fakeIdentities) { f.err = nil })
		if r := get(t, "*"); r.status < 500 {
			t.Errorf("status %d, want the service's error", r.status)
		}
	})
}

func TestListIdentitiesVaryKeepsCORSOrigin(t *testing.T) {
	s := newTestServer(t, serverOptions{cors: []string{"https://spa.example"}})
	s.ids.set(func(f *fakeIdentities) { f.view = aliceListView() })
	r := s.do(t, http.MethodGet, "/me/identities", nil, map[string]string{"Authorization": s.bearer(t), "Origin": "https://spa.example"})
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	vary := strings.Join(r.header.Values("Vary"), ", ")
	for _, want := range []string{"Origin", "Authorization", "Cookie"} {
		if !strings.Contains(vary, want) {
			t.Errorf("Vary = %q, want it to name %s", vary, want)
		}
	}
}
