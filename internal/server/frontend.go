package server

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
)

// readyTimeout bounds the readiness check.
const readyTimeout = 3 * time.Second

// ContentSecurityPolicy is the policy the page and its files are served under. It
// allows what the page and Auth0 Lock need and nothing else:
//   - scripts from linkbff and the tenant (Lock loads the client's connections as JSONP
//     from configurationBaseUrl: the tenant in development, Auth0's CDN for a hosted
//     tenant), never inline;
//   - fetches to linkbff and the tenant (Lock's cross-origin login and the JWKS it
//     verifies the ID token with);
//   - inline styles, which Lock's widget sets;
//   - images from linkbff, data: URIs (Lock's icons) and any https origin (profile
//     pictures come from the identity providers);
//   - form posts to linkbff and, through the logout redirect, the tenant.
func ContentSecurityPolicy(c ClientConfig) string {
	tenant, lockConfig := origin(c.Domain), origin(c.ConfigurationBaseURL)
	return strings.Join([]string{
		directive("default-src", "'self'"),
		directive("script-src", "'self'", tenant, lockConfig),
		directive("style-src", "'self'", "'unsafe-inline'"),
		directive("img-src", "'self'", "data:", "https:"),
		directive("connect-src", "'self'", tenant),
		directive("form-action", "'self'", tenant),
		directive("object-src", "'none'"),
		directive("base-uri", "'self'"),
		directive("frame-ancestors", "'none'"),
	}, "; ")
}

// directive joins a directive's sources, leaving out empty and repeated ones.
func directive(name string, sources ...string) string {
	out := []string{name}
	for _, s := range sources {
		if s != "" && !slices.Contains(out[1:], s) {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

// origin returns the scheme://host of an absolute http(s) URL, or "" for anything
// else (so nothing but an origin ever reaches the policy).
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(u.Host, " ;,'") {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// frontendHandler serves the embedded page under ContentSecurityPolicy(client).
// Paths that name no file get notFound (a problem), not the file server's text page.
//
// Embedded files have no modification time, so each gets a strong ETag from its
// content and Cache-Control: no-cache: a browser revalidates (and a new release is
// seen at once) but downloads Lock's bundle only when it changed.
func frontendHandler(files fs.FS, client ClientConfig, notFound http.HandlerFunc) http.Handler {
	csp := ContentSecurityPolicy(client)
	etags := &contentETags{files: files, tags: map[string]string{}}
	fileServer := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if name == "" {
			name = "."
		}
		file, ok := servable(files, name)
		if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			notFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		// same-origin rather than no-referrer: with no-referrer a browser sends
		// "Origin: null" on the page's form posts (logout), which a cross-origin
		// check must refuse when the browser sends no Sec-Fetch-Site.
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-cache")
		if tag, ok := etags.of(file); ok {
			h.Set("ETag", tag)
		}
		fileServer.ServeHTTP(w, r)
	})
}

// servable reports whether name is a file, or a directory with an index.html (the
// file server would list any other directory), and names the file that is served.
func servable(files fs.FS, name string) (string, bool) {
	info, err := fs.Stat(files, name)
	if err != nil {
		return "", false
	}
	if !info.IsDir() {
		return name, true
	}
	index := path.Join(name, "index.html")
	_, err = fs.Stat(files, index)
	return index, err == nil
}

// contentETags hashes each file of files once, when it is first served, streaming it
// through SHA-256: hashing every file at startup read Lock's bundle (1.2 MB) into
// memory, and kept its pages resident, before anyone asked for the page.
type contentETags struct {
	files fs.FS
	mu    sync.Mutex
	tags  map[string]string // by file name; "" for a file that cannot be read
}

// of returns the ETag of the file name; false when it cannot be read (it is then
// served without one).
func (c *contentETags) of(name string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	tag, ok := c.tags[name]
	if !ok {
		tag = hashFile(c.files, name)
		c.tags[name] = tag
	}
	return tag, tag != ""
}

func hashFile(files fs.FS, name string) string {
	f, err := files.Open(name)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	return `"` + base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:18]) + `"`
}
