package main

import (
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/linkbff/linkbff/internal/config"
	"github.com/linkbff/linkbff/internal/devtenant"
)

const setupGuide = "../../docs/auth0-setup.md"

// guideSeed is the development tenant seed that docs/auth0-setup.md gives for its
// set-up (the applications, the API, the connections), for BASE_URL browserBase, with
// the demo users.
func guideSeed(t *testing.T) devtenant.Seed {
	t.Helper()
	b, err := os.ReadFile(setupGuide)
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "## Try the set-up against the development tenant")
	if !ok {
		t.Fatal("the guide has no section trying the set-up against the development tenant")
	}
	_, block, ok := strings.Cut(section, "```json\n")
	if !ok {
		t.Fatal("that section has no JSON seed")
	}
	block, _, _ = strings.Cut(block, "```")
	seed, err := devtenant.ParseSeed([]byte(strings.ReplaceAll(block, "http://localhost:3000", browserBase)))
	if err != nil {
		t.Fatalf("the guide's seed: %v", err)
	}
	seed.Users = devtenant.DemoSeed().Users
	if err := seed.Validate(); err != nil {
		t.Fatal(err)
	}
	return seed
}

// TestAuth0SetupGuideAgainstDevTenant follows docs/auth0-setup.md against the
// development tenant set up as it says: a Regular Web Application without any
// Management API grant, a Machine-to-Machine application with read:users and
// update:users, the API with its scopes. linkbff, configured with the guide's
// variables, is ready, signs a person in, lists, links (with {provider, user_id}:
// Auth0 refuses {link_with} for an ID token whose aud is not the M2M application)
// and unlinks, at the Management API cost the guide states.
func TestAuth0SetupGuideAgainstDevTenant(t *testing.T) {
	seed := guideSeed(t)
	i := slices.IndexFunc(seed.Clients, func(c devtenant.Client) bool { return c.AppType == "regular_web" })
	if i < 0 || len(seed.Clients[i].ManagementScopes) != 0 || slices.Contains(seed.Clients[i].GrantTypes, "client_credentials") {
		t.Fatal("the guide's browser application should hold no Management API grant in the recommended set-up")
	}
	tenant := startBrowserTenantWith(t, func(s *devtenant.Seed) { *s = seed })
	b := newBrowser(t, startBrowserApp(t, tenant, map[string]string{
		"AUTH0_MANAGEMENT_CLIENT_ID":     m2mClientID,
		"AUTH0_MANAGEMENT_CLIENT_SECRET": m2mSecret,
	}))

	if r := b.get("/readyz"); r.status != http.StatusOK {
		t.Fatalf("/readyz: %d %s", r.status, r.body)
	}
	b.loginAsAlice()
	if r := b.api(http.MethodGet, "/me/identities", nil); r.status != http.StatusOK {
		t.Fatalf("list: %d %s", r.status, r.body)
	}

	// link signs in as userID in Lock (an ID token for the browser application with
	// the nonce) and links that account; it returns the Management API calls it cost.
	link := func(userID string) int {
		t.Helper()
		r := b.api(http.MethodPost, "/me/identities/nonce", nil)
		if r.status != http.StatusCreated {
			t.Fatalf("nonce: %d %s", r.status, r.body)
		}
		tok, err := tenant.Mint(devtenant.MintRequest{UserID: userID, ClientID: testClientID, Nonce: r.json(t)["nonce"].(string)})
		if err != nil {
			t.Fatal(err)
		}
		tenant.ResetRequests()
		r = b.api(http.MethodPost, "/me/identities", map[string]string{"link_with": tok.IDToken})
		if r.status != http.StatusCreated {
			t.Fatalf("link %s: %d %s", userID, r.status, r.body)
		}
		return tenant.ManagementRequests()
	}
	// github|4242's metadata adds github_handle to Alice's: merged first.
	if n := link("github|4242"); n != 4 {
		t.Errorf("a link with a metadata merge cost %d Management API calls, want 4 (read, read, PATCH, link)", n)
	}
	if n := tenant.RequestCount(devtenant.EndpointPatchUser); n != 1 {
		t.Errorf("%d metadata PATCHes, want 1", n)
	}
	// auth0|bob has no metadata.
	if n := link("auth0|bob"); n != 3 {
		t.Errorf("a link without metadata cost %d Management API calls, want 3 (read, read, link)", n)
	}
	tenant.ResetRequests()
	r := b.api(http.MethodGet, "/me/identities", nil)
	if got := identityKeys(t, r.json(t)); !slices.Equal(got, []string{"auth0|alice", "github|4242", "auth0|bob"}) {
		t.Errorf("identities after the links: %v", got)
	}
	if n := tenant.ManagementRequests(); n != 0 {
		t.Errorf("the list after a link cost %d Management API calls, want 0 (cached)", n)
	}
	tenant.ResetRequests()
	if r := b.api(http.MethodDelete, "/me/identities/github/4242", nil); r.status != http.StatusOK {
		t.Fatalf("unlink: %d %s", r.status, r.body)
	}
	if n := tenant.ManagementRequests(); n != 1 {
		t.Errorf("an unlink with the list cached cost %d Management API calls, want 1", n)
	}
}

// TestAuth0SetupGuideNamesRealSettings: every environment variable the guide names is
// one linkbff reads (or Go's proxy variables), and the README links the guide.
func TestAuth0SetupGuideNamesRealSettings(t *testing.T) {
	b, err := os.ReadFile(setupGuide)
	if err != nil {
		t.Fatal(err)
	}
	read := map[string]bool{"DEVTENANT_ADDR": true, "HTTPS_PROXY": true, "HTTP_PROXY": true, "NO_PROXY": true}
	_, _ = config.FromEnv(func(k string) string {
		read[k] = true
		if k == "AUTH0_DOMAIN" {
			return "example.eu.auth0.com" // production mode: every variable is read
		}
		return ""
	})
	named := regexp.MustCompile("`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)").FindAllStringSubmatch(string(b), -1)
	if len(named) < 10 {
		t.Fatalf("found only %d variables in the guide", len(named))
	}
	for _, m := range named {
		if !read[m[1]] {
			t.Errorf("the guide names %s, which linkbff does not read", m[1])
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "(docs/auth0-setup.md)") {
		t.Error("the README does not link docs/auth0-setup.md")
	}
}
