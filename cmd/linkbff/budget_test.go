package main

import (
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/devtenant"
	"github.com/linkbff/linkbff/internal/devtenant/devtenanttest"
)

var seededUsers = []string{"auth0|alice", "auth0|bob", "github|4242", "google-oauth2|1077", "github|9001"}

// maxPerSecond is the largest number of times within any one second [t, t+1s)
// starting at one of them.
func maxPerSecond(times []time.Time) int {
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	most := 0
	for i, start := range times {
		n := 0
		for _, t := range times[i:] {
			if t.Sub(start) >= time.Second {
				break
			}
			n++
		}
		most = max(most, n)
	}
	return most
}

// Two replicas on one Redis share one Management API budget: with the identity cache
// off, every list is a user read, and reads sent to both at once reach the tenant no
// more than MANAGEMENT_API_RPS in any second, as the tenant counts them.
func TestManagementAPIBudgetAcrossReplicas(t *testing.T) {
	tenant := devtenanttest.Start(t, devtenant.Options{})
	env := redisEnv(t)
	env["MANAGEMENT_API_RPS"] = "2"
	env["IDENTITY_CACHE_TTL"] = "0s"
	a, b := startAppOn(t, tenant, env), startAppOn(t, tenant, env)

	var reqs []*http.Request
	for _, rep := range []*app{a, b} {
		for _, user := range seededUsers {
			reqs = append(reqs, newRequest(t, "GET", rep.url+"/me/identities", rep.accessToken(user), nil))
		}
	}
	tenant.ResetRequests()
	for i, r := range sendAll(t, reqs...) {
		if r.status != http.StatusOK {
			t.Errorf("list %d: %d %s", i, r.status, r.body)
		}
	}
	times := tenant.ManagementRequestTimes()
	if len(times) != len(reqs) {
		t.Errorf("%d Management API requests for %d uncached lists of distinct users and replicas", len(times), len(reqs))
	}
	if most := maxPerSecond(times); most > 2 {
		t.Errorf("%d Management API requests within one second, budget 2: %v", most, times)
	}
}

// A caller whose deadline comes before its slot gets 503 upstream_rate_limited with
// Retry-After at once, and nothing goes to Auth0 for it.
func TestManagementAPIBudgetRefusesBeyondTheDeadline(t *testing.T) {
	a := startApp(t, map[string]string{"MANAGEMENT_API_RPS": "1", "REQUEST_TIMEOUT": "1s", "IDENTITY_CACHE_TTL": "0s"}, nil)
	var reqs []*http.Request
	for _, user := range seededUsers[:3] {
		reqs = append(reqs, newRequest(t, "GET", a.url+"/me/identities", a.accessToken(user), nil))
	}
	a.tenant.ResetRequests()
	ok, limited := 0, 0
	for _, r := range sendAll(t, reqs...) {
		switch r.status {
		case http.StatusOK:
			ok++
		case http.StatusServiceUnavailable:
			limited++
			wantProblem(t, r, http.StatusServiceUnavailable, "upstream_rate_limited")
			if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 {
				t.Errorf("Retry-After = %q, want whole seconds", r.header.Get("Retry-After"))
			}
		default:
			t.Errorf("list: %d %s", r.status, r.body)
		}
	}
	if ok != 1 || limited != 2 {
		t.Errorf("%d lists served and %d refused, want 1 and 2 (one slot per 1.1s, deadline 1s)", ok, limited)
	}
	if n := a.tenant.ManagementRequests(); n != 1 {
		t.Errorf("%d Management API requests, want 1", n)
	}
}

// Reads served from the cache spend no budget: with the next slot beyond every
// deadline, cached lists are all answered.
func TestCachedReadsSpendNoBudget(t *testing.T) {
	a := startApp(t, map[string]string{"MANAGEMENT_API_RPS": "0.5", "REQUEST_TIMEOUT": "1s"}, nil)
	alice := a.accessToken("auth0|alice")
	a.tenant.ResetRequests()
	for i := range 20 {
		if r := a.do("GET", "/me/identities", alice, nil); r.status != http.StatusOK {
			t.Fatalf("list %d: %d %s", i, r.status, r.body)
		}
	}
	if n := a.tenant.ManagementRequests(); n != 1 {
		t.Errorf("%d Management API requests for 20 lists within the cache TTL, want 1", n)
	}
}
