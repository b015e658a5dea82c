package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/testkit"
)

func noEnv(string) string { return "" }

// startRun runs the command with args in the background and returns its banner and
// base URL once it is ready; cancelling run's context must make it return nil. Both
// waits are bounded, so a run that never gets ready or never stops fails the test.
func startRun(t *testing.T, args ...string) (banner, baseURL string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, append([]string{"devtenant"}, args...), noEnv, pw, io.Discard)
		pw.CloseWithError(io.EOF)
		done <- err
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run returned %v after cancel, want nil", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("run did not return after its context was cancelled")
		}
	})
	// A run that neither prints its ready line nor ends would block the scanner for
	// good: closing the pipe's reading end stops it.
	notReady := time.AfterFunc(10*time.Second, func() { pr.CloseWithError(errors.New("no ready line within 10s")) })
	defer notReady.Stop()
	var b strings.Builder
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		b.WriteString(line + "\n")
		if u, ok := strings.CutPrefix(line, "ready: "); ok {
			go io.Copy(io.Discard, pr) // never block run on a later write
			return b.String(), u
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("run is not ready: %v\nbanner so far:\n%s", err, b.String())
	}
	err := <-done // run ended: it has closed the pipe
	done <- err   // for the cleanup
	t.Fatalf("run ended before it was ready: %v\nbanner so far:\n%s", err, b.String())
	return "", ""
}

func TestRunServesTheTenant(t *testing.T) {
	banner, base := startRun(t, "-addr", "127.0.0.1:0", "-log-level", "debug")
	for _, want := range []string{
		"DEVELOPMENT tenant", "NOT Auth0", "Never use it in production",
		"issuer:", base + "/",
		"linkbff-dev-client", "client_secret: linkbff-dev-secret-do-not-use-in-production",
		"linkbff-dev-native", "public client, no secret",
		"alice@example.com / alice-password", "auth0|alice",
		"github|4242", "google-oauth2|1077",
	} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}

	res, body := testkit.Get(t, nil, base+"/.well-known/jwks.json")
	var jwks struct {
		Keys []map[string]any `json:"keys"`
	}
	err := json.Unmarshal(body, &jwks)
	if err != nil || res.StatusCode != 200 || len(jwks.Keys) == 0 {
		t.Errorf("JWKS: status %d, %d keys, err %v", res.StatusCode, len(jwks.Keys), err)
	}

	// A Management API round trip with a token minted over /__dev/.
	mint := `{"user_id":"auth0|alice","client_id":"linkbff-dev-client","audience":"` + base + `/api/v2/","scope":"read:users"}`
	req, _ := http.NewRequest(http.MethodPost, base+"/__dev/tokens", strings.NewReader(mint))
	req.Header.Set("Content-Type", "application/json")
	res, body = testkit.Do(t, nil, req)
	var toks struct {
		AccessToken string `json:"access_token"`
	}
	err = json.Unmarshal(body, &toks)
	if err != nil || toks.AccessToken == "" {
		t.Fatalf("minting: status %d, err %v", res.StatusCode, err)
	}
	req, _ = http.NewRequest("GET", base+"/api/v2/users/auth0%7Calice?fields=email", nil)
	req.Header.Set("Authorization", "Bearer "+toks.AccessToken)
	res, body = testkit.Do(t, nil, req)
	var user map[string]any
	err = json.Unmarshal(body, &user)
	if err != nil || res.StatusCode != 200 || user["email"] != "alice@example.com" {
		t.Errorf("GET user: status %d, body %v, err %v", res.StatusCode, user, err)
	}
}

func TestRunPublicIssuer(t *testing.T) {
	banner, _ := startRun(t, "-addr", "127.0.0.1:0", "-issuer", "http://devtenant.example:4000")
	if !strings.Contains(banner, "http://devtenant.example:4000/") {
		t.Errorf("banner does not show the public issuer:\n%s", banner)
	}
}

func TestRunSeedFile(t *testing.T) {
	seed := `{"clients":[{"client_id":"app","name":"App","app_type":"spa"}],"apis":[],
		"connections":[{"name":"db","strategy":"auth0"}],
		"users":[{"user_id":"auth0|carol","connection":"db","email":"carol@example.com","email_verified":true,"password":"carol-pw"}]}`
	path := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(path, []byte(seed), 0o600); err != nil {
		t.Fatal(err)
	}
	banner, _ := startRun(t, "-addr", "127.0.0.1:0", "-seed", path)
	if !strings.Contains(banner, "carol@example.com / carol-pw") || strings.Contains(banner, "alice") {
		t.Errorf("banner does not reflect the seed file:\n%s", banner)
	}
}

func TestRunRefusals(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	badJSON := write("bad.json", `{"clients": [`)
	typo := write("typo.json", `{"client": []}`)
	dangling := write("dangling.json", `{"users":[{"user_id":"auth0|x","connection":"nope","password":"p"}]}`)

	cases := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr []string
	}{
		{"all interfaces", []string{"-addr", ":4000"}, nil, []string{"not a loopback address", "-allow-remote"}},
		{"unspecified address", []string{"-addr", "0.0.0.0:4000"}, nil, []string{"-allow-remote"}},
		{"remote address", []string{"-addr", "192.0.2.1:4000"}, nil, []string{"-allow-remote"}},
		{"remote address from the environment", nil, map[string]string{"DEVTENANT_ADDR": ":4000"}, []string{"-allow-remote"}},
		{"address without port", []string{"-addr", "127.0.0.1"}, nil, []string{"-addr"}},
		{"malformed seed", []string{"-addr", "127.0.0.1:0", "-seed", badJSON}, nil, []string{badJSON}},
		{"seed with an unknown field", []string{"-addr", "127.0.0.1:0", "-seed", typo}, nil, []string{typo, "unknown field"}},
		{"seed with a dangling connection", []string{"-addr", "127.0.0.1:0", "-seed", dangling}, nil, []string{dangling, "unknown connection"}},
		{"missing seed", []string{"-addr", "127.0.0.1:0", "-seed", filepath.Join(dir, "none.json")}, nil, []string{"none.json"}},
		{"bad log level", []string{"-log-level", "loud"}, nil, []string{"-log-level"}},
		{"bad issuer", []string{"-addr", "127.0.0.1:0", "-issuer", "ftp://x"}, nil, []string{"issuer"}},
		{"stray argument", []string{"serve"}, nil, []string{"unexpected arguments"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			getenv := func(k string) string { return tc.env[k] }
			err := run(ctx, append([]string{"devtenant"}, tc.args...), getenv, &stdout, &stderr)
			if err == nil {
				t.Fatal("run succeeded, want an error")
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			if stdout.Len() != 0 {
				t.Errorf("printed a banner although it refused to start:\n%s", stdout.String())
			}
		})
	}
}

func TestCheckAddr(t *testing.T) {
	cases := []struct {
		addr   string
		remote bool
		ok     bool
	}{
		{"127.0.0.1:4000", false, true},
		{"[::1]:4000", false, true},
		{"localhost:4000", false, true},
		{"127.0.0.2:4000", false, true},
		{":4000", false, false},
		{"[::]:4000", false, false},
		{"devtenant:4000", false, false},
		{":4000", true, true},
		{"192.0.2.1:4000", true, true},
	}
	for _, tc := range cases {
		if err := checkAddr(tc.addr, tc.remote); (err == nil) != tc.ok {
			t.Errorf("checkAddr(%q, allowRemote=%v) = %v, want ok=%v", tc.addr, tc.remote, err, tc.ok)
		}
	}
}

func TestRunHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	// Were -h to start the tenant, the deadline would end it (and the test would fail
	// on the banner) instead of letting it serve until go test's global timeout.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := run(ctx, []string{"devtenant", "-h"}, noEnv, &stdout, &stderr); err != nil {
		t.Fatalf("run -h = %v, want nil", err)
	}
	for _, want := range []string{"DEVELOPMENT", "-allow-remote", "-seed", "-issuer", "-log-level", "-addr"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("usage lacks %q:\n%s", want, stderr.String())
		}
	}
	if stdout.Len() != 0 {
		t.Errorf("-h printed a banner:\n%s", stdout.String())
	}
}
