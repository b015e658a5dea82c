package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/alexedwards/scs/v2"

	"github.com/linkbff/linkbff/internal/store/redisstore"
	"github.com/linkbff/linkbff/internal/testkit"
)

// TestSessionsSharedThroughRedis: two linkbff processes on one Redis serve one
// origin; a session started on A works on B, and logging out on A ends it on B.
func TestSessionsSharedThroughRedis(t *testing.T) {
	redisURL := testkit.RedisURL(t)
	prefix := testkit.RedisPrefix(t, redisURL)
	rdb, err := redisstore.NewClient(redisURL) // to look at what linkbff stored
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	tenant := startBrowserTenant(t)
	env := map[string]string{"REDIS_URL": redisURL, "REDIS_KEY_PREFIX": prefix}
	a := startBrowserApp(t, tenant, env)
	bURL := startBrowserApp(t, tenant, env)

	br := newBrowser(t, a)
	br.loginAsAlice()
	cookie := br.sessionCookie()

	// The session is in Redis, under the prefix, keyed by a hash of the token, and
	// holds the user and no token.
	ctx := testkit.Context(t)
	keys, err := rdb.Keys(ctx, prefix+"session:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 {
		t.Fatalf("session keys %v, want one under %ssession:", keys, prefix)
	}
	if strings.Contains(keys[0], cookie) {
		t.Errorf("Redis key %q contains the session token itself", keys[0])
	}
	data, err := rdb.Get(ctx, keys[0]).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	_, values, err := scs.GobCodec{}.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	var user map[string]any
	if s, _ := values["user"].(string); json.Unmarshal([]byte(s), &user) != nil {
		t.Fatalf("stored session %v has no user", values)
	}
	if user["sub"] != "auth0|alice" || user["email"] != "alice@example.com" || user["auth_time"] == nil {
		t.Errorf("stored user = %v", user)
	}
	for k, v := range values {
		if s, _ := v.(string); strings.Contains(s, "eyJ") {
			t.Errorf("stored session value %s holds a JWT: %s", k, s)
		}
	}

	// B knows the session: the page and the API work there with A's cookie.
	br.use(bURL)
	if s := br.session(); !s.Authenticated || s.User.Sub != "auth0|alice" {
		t.Fatalf("session on B = %+v, want Alice", s)
	}
	if r := br.api(http.MethodPost, "/me/identities/nonce", nil); r.status != http.StatusCreated {
		t.Errorf("nonce on B with A's cookie: %d %s", r.status, r.body)
	}
	if r := br.api(http.MethodGet, "/me/identities", nil); r.status != http.StatusOK || r.json(t)["user_id"] != "auth0|alice" {
		t.Errorf("identities on B with A's cookie: %d %s", r.status, r.body)
	}

	// Logout on A ends the session on B.
	br.use(a)
	br.logout()
	br.use(bURL)
	wantProblem(t, br.withCookie(cookie, http.MethodGet, "/me/identities", nil), http.StatusUnauthorized, "invalid_token")
	if s := sessionOf(t, br.withCookie(cookie, http.MethodGet, "/auth/session", nil)); s.Authenticated {
		t.Error("B still has the session after logout on A")
	}
	if keys, _ := rdb.Keys(ctx, prefix+"session:*").Result(); len(keys) != 0 {
		t.Errorf("session keys left after logout: %v", keys)
	}
}
