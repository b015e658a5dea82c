package server_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/testkit"
)

// traversals are request targets that name ../secret.txt from the page's root, as a
// client that does not clean paths sends them.
var traversals = []string{
	"/../secret.txt",
	"/%2e%2e/secret.txt",
	"/..%2fsecret.txt",
	"/%2e%2e%2fsecret.txt",
	"/./../secret.txt",
	"/index.html/../../secret.txt",
}

const secret = "the file beside the page's root"

// pageRoot writes root/index.html and, outside root, secret.txt; it returns root.
func pageRoot(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "page")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "index.html"), []byte("<!doctype html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secret.txt"), []byte(secret), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// rawGet sends target exactly as given (no client cleans or re-encodes it) and
// returns the response.
func rawGet(t *testing.T, baseURL, target string) response {
	t.Helper()
	u, err := url.Parse(baseURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, testkit.Timeout)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(testkit.Timeout)); err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target, u.Host); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	return response{status: res.StatusCode, header: res.Header, body: body}
}

// TestFrontendDoesNotServeOutsideItsRoot asks for a file beside the page's root
// with every spelling of ".." in traversals, sent raw. So that the test can fail, it
// first proves each request reaches the file through a deliberately naive file
// server.
func TestFrontendDoesNotServeOutsideItsRoot(t *testing.T) {
	root := pageRoot(t)

	naive := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := os.ReadFile(filepath.Join(root, r.URL.Path)) // Join cleans ".." away: the bug
		if err != nil {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(b)
	}))
	t.Cleanup(naive.Close)
	for _, target := range traversals {
		if r := rawGet(t, naive.URL, target); !strings.Contains(string(r.body), secret) {
			t.Fatalf("control: the naive server did not leak the file for %s (status %d): this request proves nothing", target, r.status)
		}
	}

	s := newTestServer(t, serverOptions{frontend: os.DirFS(root)})
	if r := rawGet(t, s.url, "/"); r.status != http.StatusOK {
		t.Fatalf("GET /: status %d, want 200: the page is not served at all", r.status)
	}
	for _, target := range traversals {
		r := rawGet(t, s.url, target)
		if strings.Contains(string(r.body), secret) {
			t.Errorf("GET %s served the file outside the page's root", target)
			continue
		}
		wantProblem(t, r, http.StatusNotFound, fault.RouteNotFound)
	}
}
