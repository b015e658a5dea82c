package devtenant_test

import (
	"context"
	"encoding/pem"
	"errors"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/devtenant"
	"github.com/linkbff/linkbff/internal/testkit"
)

// nodeInteropDir holds the Node interop test and its package.json, from the repository root.
const nodeInteropDir = "tests/node"

// TestNodeInteropAuth0SDK drives the tenant with Auth0's own Node SDK (npm "auth0") and
// jose, from tests/node/interop.test.mjs. `make test` installs them with npm ci.
//
// node-auth0 v4 only speaks https to https://{domain}, and checks that ID tokens come from
// the issuer https://{domain}/. So the tenant is served here over TLS with that issuer,
// and node trusts the test certificate through NODE_EXTRA_CA_CERTS.
func TestNodeInteropAuth0SDK(t *testing.T) {
	root := filepath.Join("..", "..") // go test runs in the package directory
	node := nodeInteropPrerequisites(t, root)

	srv := httptest.NewUnstartedServer(nil)
	tn, err := devtenant.New(devtenant.Options{Issuer: "https://" + srv.Listener.Addr().String() + "/"})
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	srv.Config.Handler = tn.Handler()
	srv.StartTLS()
	t.Cleanup(srv.Close)

	caFile := filepath.Join(t.TempDir(), "devtenant-ca.pem")
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, ca, 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", nodeInteropDir+"/interop.test.mjs")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "DEVTENANT_URL="+tn.URL(), "NODE_EXTRA_CA_CERTS="+caFile)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test %s/interop.test.mjs: %v\n%s", nodeInteropDir, err, out)
	}
	t.Logf("node --test:\n%s", out)

	// What the tenant saw. The SDK fetched its Management API token once and reused it:
	// one token request for the explicit grant, one for ManagementClient, one password grant.
	if n := tn.RequestCount(devtenant.EndpointToken); n != 3 {
		t.Errorf("POST /oauth/token: %d requests, want 3 (ManagementClient should fetch one token and cache it)", n)
	}
	// link, then the same link again (409).
	if n := tn.RequestCount(devtenant.EndpointLinkIdentity); n != 2 {
		t.Errorf("POST /api/v2/users/{id}/identities: %d requests, want 2", n)
	}
	if n := tn.RequestCount(devtenant.EndpointUnlinkIdentity); n != 1 {
		t.Errorf("DELETE /api/v2/users/{id}/identities/...: %d requests, want 1", n)
	}
	if tn.RequestCount(devtenant.EndpointJWKS) == 0 {
		t.Error("nobody fetched the JWKS: the ID token was not verified against the tenant's keys")
	}
	alice, ok := tn.UserSnapshot("auth0|alice")
	if !ok {
		t.Fatal("auth0|alice is gone")
	}
	wantMeta := map[string]any{"theme": "dark", "locale": "fr", "via": "node-auth0"}
	if !reflect.DeepEqual(alice["user_metadata"], wantMeta) {
		t.Errorf("alice's user_metadata = %v, want %v", alice["user_metadata"], wantMeta)
	}
	if ids, _ := alice["identities"].([]any); len(ids) != 1 {
		t.Errorf("alice has %d identities after the unlink, want 1: %v", len(ids), ids)
	}
	// The link really happened: unlinked, github|4242 is a user again, but Auth0 (and so
	// the tenant) discarded its user_metadata when it was linked.
	gh, ok := tn.UserSnapshot("github|4242")
	if !ok {
		t.Fatal("github|4242 is not a user again after the unlink")
	}
	if meta, _ := gh["user_metadata"].(map[string]any); len(meta) != 0 {
		t.Errorf("github|4242 kept its user_metadata %v: the link did not happen", meta)
	}
}

// nodeInteropPrerequisites returns the node binary, or skips when node or the npm
// dependencies are missing. In CI (CI=true) a missing prerequisite fails instead.
func nodeInteropPrerequisites(t *testing.T, root string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		testkit.MissingPrerequisite(t, "node is not on PATH; install Node.js 20 or later to run the node-auth0 interop test")
		return ""
	}
	modules := filepath.Join(root, nodeInteropDir, "node_modules")
	if _, err := os.Stat(modules); errors.Is(err, os.ErrNotExist) {
		testkit.MissingPrerequisite(t, "%s/node_modules is missing; run make test (or npm ci --prefix %s)", nodeInteropDir, nodeInteropDir)
	} else if err != nil {
		t.Fatal(err)
	}
	return node
}
