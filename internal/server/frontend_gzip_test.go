package server_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/linkbff/linkbff/frontend"
	"github.com/linkbff/linkbff/internal/server"
	"github.com/linkbff/linkbff/internal/testkit"
)

// gzipPage is a page whose app.js is worth compressing, beside files that are not:
// an image (compressed already, however it looks) and a script too small to gain.
var gzipPage = fstest.MapFS{
	"index.html": {Data: []byte("<!doctype html><title>linkbff</title>" + strings.Repeat("<p>account linking</p>\n", 200))},
	"app.js":     {Data: []byte(strings.Repeat("export const linked = (a, b) => a.user_id === b.user_id;\n", 400))},
	"photo.png":  {Data: []byte("\x89PNG\r\n\x1a\n" + strings.Repeat("\x00", 4096))},
	"tiny.js":    {Data: []byte(strings.Repeat("export {};\n", 20))},
}

// rawClient is a client that sends Accept-Encoding only as a test sets it and does
// not decompress, so each test sees the response as sent.
func rawClient(t *testing.T) *http.Client {
	t.Helper()
	c := testkit.HTTPClient(t)
	c.Transport.(*http.Transport).DisableCompression = true
	return c
}

// fetch sends method path with the given header fields.
func fetch(t *testing.T, c *http.Client, method, url string, header map[string][]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	return testkit.Do(t, c, req)
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("bad gzip: %v", err)
	}
	return out
}

// TestPageGzipNegotiation: a file worth compressing is sent gzipped exactly when
// Accept-Encoding allows gzip at least as much as identity (RFC 9110 12.5.3), with
// its own ETag, and either way with the page's headers and Vary: Accept-Encoding.
func TestPageGzipNegotiation(t *testing.T) {
	base := newPageServer(t, pageClient, gzipPage)
	c := rawClient(t)
	want := gzipPage["app.js"].Data
	identityRes, _ := fetch(t, c, http.MethodGet, base+"/app.js", nil)
	identityTag := identityRes.Header.Get("ETag")
	gzipTag := strings.TrimSuffix(identityTag, `"`) + `-gzip"`

	tests := []struct {
		name     string
		accept   []string // the Accept-Encoding lines; nil sends none
		wantGzip bool
	}{
		{"no Accept-Encoding", nil, false},
		{"empty", []string{""}, false},
		{"gzip", []string{"gzip"}, true},
		{"a browser's", []string{"gzip, deflate, br, zstd"}, true},
		{"gzip refused", []string{"gzip;q=0"}, false},
		{"gzip refused, three decimals", []string{"br, gzip;q=0.000"}, false},
		{"br only", []string{"br"}, false},
		{"any", []string{"*"}, true},
		{"any refused", []string{"*;q=0"}, false},
		{"any, low weight", []string{"br, *;q=0.1"}, true},
		{"gzip refused, any allowed", []string{"gzip;q=0, *"}, false},
		{"case and spaces", []string{" GZIP ; Q=0.5 "}, true},
		{"x-gzip", []string{"x-gzip"}, true},
		{"gzip, low weight", []string{"gzip;q=0.5"}, true},
		{"identity preferred", []string{"gzip;q=0.5, identity"}, false},
		{"identity preferred by any", []string{"gzip;q=0.5, *"}, false},
		{"identity refused", []string{"identity;q=0, gzip;q=0.1"}, true},
		{"weight that does not parse", []string{"gzip;q=high"}, false},
		{"weight above 1", []string{"gzip;q=2"}, false},
		{"two lines", []string{"br", "gzip"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := http.Header{}
			for _, v := range tt.accept {
				header.Add("Accept-Encoding", v)
			}
			res, body := fetch(t, c, http.MethodGet, base+"/app.js", header)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %s", res.Status)
			}
			if got := res.Header.Get("Content-Length"); got != strconv.Itoa(len(body)) {
				t.Errorf("Content-Length %q, body %d bytes", got, len(body))
			}
			enc, tag := res.Header.Get("Content-Encoding"), res.Header.Get("ETag")
			if tt.wantGzip {
				if enc != "gzip" || tag != gzipTag {
					t.Errorf("Content-Encoding %q, ETag %s; want gzip, %s", enc, tag, gzipTag)
				}
				if len(body) >= len(want)/2 {
					t.Errorf("gzipped body %d bytes of %d", len(body), len(want))
				}
				body = gunzip(t, body)
			} else if enc != "" || tag != identityTag {
				t.Errorf("Content-Encoding %q, ETag %s; want none, %s", enc, tag, identityTag)
			}
			if !bytes.Equal(body, want) {
				t.Errorf("body is not app.js")
			}
			for name, value := range map[string]string{
				"Vary":                    "Accept-Encoding",
				"Content-Type":            "text/javascript; charset=utf-8",
				"Content-Security-Policy": server.ContentSecurityPolicy(pageClient),
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "same-origin",
				"Cache-Control":           "no-cache",
			} {
				if got := res.Header.Values(name); len(got) != 1 || got[0] != value {
					t.Errorf("%s = %q, want exactly %q", name, got, value)
				}
			}
		})
	}
}

// pageClient is a configuration for tests that use no tenant.
var pageClient = server.ClientConfig{Domain: "https://example.eu.auth0.com", ClientID: clientID, Issuer: "https://example.eu.auth0.com/"}

// TestPageGzipConditional: each variant revalidates against its own ETag (a 304
// keeps the ETag and Vary), HEAD and range requests describe the bytes of the variant
// they are for, and a request for several ranges of the gzipped variant is answered
// in full (a multipart body cannot be marked gzip-coded).
func TestPageGzipConditional(t *testing.T) {
	base := newPageServer(t, pageClient, gzipPage)
	c := rawClient(t)
	gzipped := http.Header{"Accept-Encoding": {"gzip"}}
	_, zipped := fetch(t, c, http.MethodGet, base+"/", gzipped)
	plain := gzipPage["index.html"].Data
	identityRes, _ := fetch(t, c, http.MethodGet, base+"/", nil)
	gzipRes, _ := fetch(t, c, http.MethodGet, base+"/", gzipped)
	identityTag, gzipTag := identityRes.Header.Get("ETag"), gzipRes.Header.Get("ETag")
	if identityTag == "" || identityTag == gzipTag {
		t.Fatalf("ETags identity %s, gzip %s: want two different tags", identityTag, gzipTag)
	}
	if !bytes.Equal(gunzip(t, zipped), plain) {
		t.Fatal("the gzipped index.html does not gunzip to the file")
	}

	tests := []struct {
		name, method string
		header       http.Header
		wantStatus   int
		wantEncoding string
		wantTag      string
		wantBody     []byte // nil: none
		wantLength   int    // Content-Length; -1: none
		wantRange    string
	}{
		{"identity, its tag", "GET", http.Header{"If-None-Match": {identityTag}}, 304, "", identityTag, nil, -1, ""},
		{"gzip, its tag", "GET", http.Header{"Accept-Encoding": {"gzip"}, "If-None-Match": {gzipTag}}, 304, "", gzipTag, nil, -1, ""},
		{"gzip, identity's tag", "GET", http.Header{"Accept-Encoding": {"gzip"}, "If-None-Match": {identityTag}}, 200, "gzip", gzipTag, zipped, len(zipped), ""},
		{"identity, gzip's tag", "GET", http.Header{"If-None-Match": {gzipTag}}, 200, "", identityTag, plain, len(plain), ""},
		{"HEAD identity", "HEAD", nil, 200, "", identityTag, nil, len(plain), ""},
		{"HEAD gzip", "HEAD", gzipped, 200, "gzip", gzipTag, nil, len(zipped), ""},
		{"HEAD gzip, its tag", "HEAD", http.Header{"Accept-Encoding": {"gzip"}, "If-None-Match": {gzipTag}}, 304, "", gzipTag, nil, -1, ""},
		{"range of identity", "GET", http.Header{"Range": {"bytes=0-9"}}, 206, "", identityTag, plain[:10], 10, "bytes 0-9/" + strconv.Itoa(len(plain))},
		{"range of gzip", "GET", http.Header{"Accept-Encoding": {"gzip"}, "Range": {"bytes=10-"}}, 206, "gzip", gzipTag, zipped[10:], len(zipped) - 10, "bytes 10-" + strconv.Itoa(len(zipped)-1) + "/" + strconv.Itoa(len(zipped))},
		{"range of gzip, If-Range its tag", "GET", http.Header{"Accept-Encoding": {"gzip"}, "Range": {"bytes=0-9"}, "If-Range": {gzipTag}}, 206, "gzip", gzipTag, zipped[:10], 10, "bytes 0-9/" + strconv.Itoa(len(zipped))},
		{"range of gzip, If-Range identity's tag", "GET", http.Header{"Accept-Encoding": {"gzip"}, "Range": {"bytes=0-9"}, "If-Range": {identityTag}}, 200, "gzip", gzipTag, zipped, len(zipped), ""},
		{"ranges of gzip", "GET", http.Header{"Accept-Encoding": {"gzip"}, "Range": {"bytes=0-9,20-29"}}, 200, "gzip", gzipTag, zipped, len(zipped), ""},
		{"range beyond gzip", "GET", http.Header{"Accept-Encoding": {"gzip"}, "Range": {"bytes=" + strconv.Itoa(len(zipped)) + "-"}}, 416, "", "", nil, -2, "bytes */" + strconv.Itoa(len(zipped))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := fetch(t, c, tt.method, base+"/", tt.header)
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status %s, want %d", res.Status, tt.wantStatus)
			}
			if got := res.Header.Get("Content-Encoding"); got != tt.wantEncoding {
				t.Errorf("Content-Encoding %q, want %q", got, tt.wantEncoding)
			}
			if got := res.Header.Get("ETag"); got != tt.wantTag {
				t.Errorf("ETag %s, want %s", got, tt.wantTag)
			}
			if got := res.Header.Get("Vary"); got != "Accept-Encoding" {
				t.Errorf("Vary %q, want Accept-Encoding", got)
			}
			if tt.wantBody != nil && !bytes.Equal(body, tt.wantBody) {
				t.Errorf("body %d bytes, not the %d expected", len(body), len(tt.wantBody))
			}
			if tt.wantBody == nil && tt.wantLength != -2 && len(body) != 0 {
				t.Errorf("body of %d bytes, want none", len(body))
			}
			switch got := res.Header.Get("Content-Length"); {
			case tt.wantLength == -1 && got != "":
				t.Errorf("Content-Length %s on a %d", got, res.StatusCode)
			case tt.wantLength >= 0 && got != strconv.Itoa(tt.wantLength):
				t.Errorf("Content-Length %q, want %d", got, tt.wantLength)
			}
			if got := res.Header.Get("Content-Range"); got != tt.wantRange {
				t.Errorf("Content-Range %q, want %q", got, tt.wantRange)
			}
		})
	}
}

// TestPageNotGzipped: an image, however compressible its bytes, and a file too small
// to gain are sent as they are, with no Vary, whatever the client accepts.
func TestPageNotGzipped(t *testing.T) {
	base := newPageServer(t, pageClient, gzipPage)
	c := rawClient(t)
	for _, name := range []string{"photo.png", "tiny.js"} {
		res, body := fetch(t, c, http.MethodGet, base+"/"+name, http.Header{"Accept-Encoding": {"gzip, *"}})
		if res.StatusCode != http.StatusOK || !bytes.Equal(body, gzipPage[name].Data) {
			t.Errorf("GET %s: %s, %d bytes; want 200 and the file", name, res.Status, len(body))
		}
		if enc, vary := res.Header.Get("Content-Encoding"), res.Header.Get("Vary"); enc != "" || vary != "" {
			t.Errorf("GET %s: Content-Encoding %q, Vary %q; want neither", name, enc, vary)
		}
	}
}

// TestPageGzipFirstRequests: requests that arrive together, before the file was
// compressed, all get the same gzipped bytes (run with -race).
func TestPageGzipFirstRequests(t *testing.T) {
	base := newPageServer(t, pageClient, gzipPage)
	c := rawClient(t)
	bodies := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range bodies {
		wg.Go(func() {
			req, err := http.NewRequest(http.MethodGet, base+"/app.js", nil)
			if err != nil {
				t.Error(err)
				return
			}
			req.Header.Set("Accept-Encoding", "gzip")
			res, err := c.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			bodies[i], err = io.ReadAll(res.Body)
			if err != nil || res.Header.Get("Content-Encoding") != "gzip" {
				t.Errorf("GET /app.js: %s, Content-Encoding %q, %v", res.Status, res.Header.Get("Content-Encoding"), err)
			}
		})
	}
	wg.Wait()
	for i, b := range bodies {
		if !bytes.Equal(b, bodies[0]) || !bytes.Equal(gunzip(t, b), gzipPage["app.js"].Data) {
			t.Errorf("response %d differs or does not gunzip to app.js", i)
		}
	}
}

// TestPageGzipSizes: every text file of the real page that is gzipped gunzips to
// exactly the file, and Lock's bundle, most of the page's weight, goes at under 40%
// of its size (28% with auth0-lock 14.3.0).
func TestPageGzipSizes(t *testing.T) {
	files := frontend.Files()
	base := newPageServer(t, pageClient, files)
	c := rawClient(t)
	err := fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		want, err := fs.ReadFile(files, name)
		if err != nil {
			return err
		}
		res, body := fetch(t, c, http.MethodGet, base+"/"+name, http.Header{"Accept-Encoding": {"gzip"}})
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", name, res.Status)
			return nil
		}
		if res.Header.Get("Content-Encoding") != "gzip" {
			t.Logf("%-28s %8d bytes, sent as is", name, len(want))
			if name == "vendor/auth0-lock.js" || !bytes.Equal(body, want) {
				t.Errorf("GET %s: not gzipped, or not the file", name)
			}
			return nil
		}
		t.Logf("%-28s %8d bytes, gzipped %7d (%.0f%%)", name, len(want), len(body), 100*float64(len(body))/float64(len(want)))
		if !bytes.Equal(gunzip(t, body), want) {
			t.Errorf("GET %s: the gzipped body does not gunzip to the file", name)
		}
		if name == "vendor/auth0-lock.js" && len(body)*10 >= len(want)*4 {
			t.Errorf("Lock's bundle gzipped to %d of %d bytes, want under 40%%", len(body), len(want))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
