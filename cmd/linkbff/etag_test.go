package main

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// conditionalList sends GET /me/identities to rep with If-None-Match: tag (none when
// tag is empty).
func (a *app) conditionalList(token, tag string) response {
	a.t.Helper()
	req := newRequest(a.t, "GET", a.url+"/me/identities", token, nil)
	if tag != "" {
		req.Header.Set("If-None-Match", tag)
	}
	return a.send(req)
}

// wantList checks a 200 with a tag other than the ones in stale, holding keys; it
// returns the tag.
func wantList(t *testing.T, r response, keys []string, stale ...string) string {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d, want 200 (body %s)", r.status, r.body)
	}
	tag := r.header.Get("ETag")
	for _, old := range stale {
		if tag == "" || tag == old {
			t.Fatalf("ETag %q after the list changed, want a new one", tag)
		}
	}
	if diff := cmp.Diff(keys, identityKeys(t, r.json(t))); diff != "" {
		t.Errorf("identities (-want +got):\n%s", diff)
	}
	if cc := r.header.Get("Cache-Control"); cc != "private, no-cache" {
		t.Errorf("Cache-Control = %q", cc)
	}
	return tag
}

func want304(t *testing.T, r response, tag string) {
	t.Helper()
	if r.status != http.StatusNotModified || len(r.body) != 0 || r.header.Get("ETag") != tag {
		t.Fatalf("got %d ETag %q body %q, want 304 with ETag %s and no body", r.status, r.header.Get("ETag"), r.body, tag)
	}
}

// The tag follows the list over run(): a link and an unlink each change it, a tag
// held from before a change never gets a 304, and an unchanged list costs the
// client no body and linkbff no Management API call.
func TestETagFollowsLinkAndUnlink(t *testing.T) {
	a := startApp(t, nil, nil)
	alice := a.accessToken("auth0|alice")

	t1 := wantList(t, a.conditionalList(alice, ""), []string{"auth0|alice"})
	a.tenant.ResetRequests()
	want304(t, a.conditionalList(alice, t1), t1)
	if n := a.tenant.ManagementRequests(); n != 0 {
		t.Errorf("a 304 from the cache made %d Management API calls", n)
	}

	if r := a.link(alice, "github|4242"); r.status != http.StatusCreated {
		t.Fatalf("link: %d %s", r.status, r.body)
	}
	t2 := wantList(t, a.conditionalList(alice, t1), []string{"auth0|alice", "github|4242"}, t1)
	want304(t, a.conditionalList(alice, t2), t2)

	if r := a.do("DELETE", "/me/identities/github/4242", alice, nil); r.status != http.StatusOK {
		t.Fatalf("unlink: %d %s", r.status, r.body)
	}
	t3 := wantList(t, a.conditionalList(alice, t2), []string{"auth0|alice"}, t2)
	want304(t, a.conditionalList(alice, t3), t3)
}

// With Redis, replicas give the same tag for the same list, and a change on one is
// never answered with a 304 on the other.
func TestETagAcrossReplicas(t *testing.T) {
	rt := startRecordedTenant(t, nil)
	env := redisEnv(t)
	a, b := startAppOn(t, rt.Tenant, env), startAppOn(t, rt.Tenant, env)
	alice := a.accessToken("auth0|alice")

	t1 := wantList(t, a.conditionalList(alice, ""), []string{"auth0|alice"})
	want304(t, b.conditionalList(alice, t1), t1)

	if r := a.link(alice, "github|4242"); r.status != http.StatusCreated {
		t.Fatalf("link on A: %d %s", r.status, r.body)
	}
	t2 := wantList(t, b.conditionalList(alice, t1), []string{"auth0|alice", "github|4242"}, t1)
	want304(t, a.conditionalList(alice, t2), t2)

	if r := b.do("DELETE", "/me/identities/github/4242", alice, nil); r.status != http.StatusOK {
		t.Fatalf("unlink on B: %d %s", r.status, r.body)
	}
	wantList(t, a.conditionalList(alice, t2), []string{"auth0|alice"}, t2)
}
