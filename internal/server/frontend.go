package server

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

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
//
// Text files (see compressible) are also kept gzipped, to a client whose
// Accept-Encoding allows it: Lock's bundle is 1.2 MB, a quarter of that gzipped.
func frontendHandler(files fs.FS, client ClientConfig, notFound http.HandlerFunc) http.Handler {
	csp := ContentSecurityPolicy(client)
	page := &pageFiles{files: files, byName: map[string]*pageFile{}}
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
		// X-Content-Type-Options is securityHeaders', as on every response.
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		// same-origin rather than no-referrer: with no-referrer a browser sends
		// "Origin: null" on the page's form posts (logout), which a cross-origin
		// check must refuse when the browser sends no Sec-Fetch-Site.
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-cache")
		f := page.of(file)
		if f.gzipped != nil {
			h.Add("Vary", "Accept-Encoding")
			if acceptsGzip(r.Header.Values("Accept-Encoding")) {
				serveGzipped(w, r, file, f)
				return
			}
		}
		if f.tag != "" {
			h.Set("ETag", f.tag)
		}
		fileServer.ServeHTTP(w, r)
	})
}

// serveGzipped serves f's gzipped bytes as the representation, with its own ETag, so
// that conditional and range requests apply to those bytes (RFC 9110 8.4.1: ranges
// of a gzip-coded representation are ranges of its coded bytes). A request for
// several ranges is answered in full: the parts of a multipart/byteranges response
// cannot each be marked as gzip-coded.
func serveGzipped(w http.ResponseWriter, r *http.Request, name string, f *pageFile) {
	w.Header().Set("ETag", f.gzipTag)
	if strings.Contains(r.Header.Get("Range"), ",") || len(r.Header.Values("Range")) > 1 {
		r = r.Clone(r.Context())
		r.Header.Del("Range")
	}
	// ServeContent types the file by the name's extension rather than by sniffing the
	// gzipped bytes. It sets Content-Length only while Content-Encoding is unset, so
	// gzipEncoded adds that as the status is written.
	http.ServeContent(&gzipEncoded{ResponseWriter: w}, r, name, time.Time{}, bytes.NewReader(f.gzipped))
}

// gzipEncoded adds Content-Encoding: gzip to a response that carries the gzipped
// bytes (200, 206), not to a 304, 412 or 416.
type gzipEncoded struct {
	http.ResponseWriter
	wrote bool
}

func (g *gzipEncoded) WriteHeader(code int) {
	if !g.wrote && (code == http.StatusOK || code == http.StatusPartialContent) {
		g.Header().Set("Content-Encoding", "gzip")
	}
	g.wrote = true
	g.ResponseWriter.WriteHeader(code)
}

func (g *gzipEncoded) Write(b []byte) (int, error) {
	if !g.wrote {
		g.WriteHeader(http.StatusOK)
	}
	return g.ResponseWriter.Write(b)
}

func (g *gzipEncoded) Unwrap() http.ResponseWriter { return g.ResponseWriter }

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

// pageFiles describes each file of files once, when it is first served: its ETag,
// streaming it through SHA-256 (hashing every file at startup read Lock's bundle,
// 1.2 MB, into memory, and kept its pages resident, before anyone asked for the
// page), and for a compressible file its gzipped bytes, compressed in the same pass.
// A file is described under its own sync.Once, so compressing Lock's bundle (about
// 50 ms) does not hold up the page's other files.
type pageFiles struct {
	files  fs.FS
	mu     sync.Mutex
	byName map[string]*pageFile
}

// pageFile is what is kept of one file.
type pageFile struct {
	once    sync.Once
	tag     string // its strong ETag; "" for a file that cannot be read (served without one)
	gzipped []byte // its gzip encoding; nil when not compressible or not worth it
	gzipTag string // the ETag of the gzipped representation: tag with -gzip inside the quotes
}

// of returns the description of the file name.
func (p *pageFiles) of(name string) *pageFile {
	p.mu.Lock()
	f, ok := p.byName[name]
	if !ok {
		f = &pageFile{}
		p.byName[name] = f
	}
	p.mu.Unlock()
	f.once.Do(func() { f.describe(p.files, name) })
	return f
}

// Compression is kept only when it saves at least a tenth of the file and
// minGzipSaving bytes: below that the Vary and Content-Encoding headers, and the
// client's work, cost about what it saves.
const minGzipSaving = 256

func (f *pageFile) describe(files fs.FS, name string) {
	file, err := files.Open(name)
	if err != nil {
		return
	}
	defer file.Close()
	h := sha256.New()
	var gz bytes.Buffer
	var zw *gzip.Writer
	w := io.Writer(h)
	if compressible(name) {
		zw, _ = gzip.NewWriterLevel(&gz, gzip.BestCompression) // a valid level: no error
		w = io.MultiWriter(h, zw)
	}
	n, err := io.Copy(w, file)
	if err != nil {
		return
	}
	tag := base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:18])
	f.tag = `"` + tag + `"`
	if zw == nil || zw.Close() != nil {
		return
	}
	if saved := n - int64(gz.Len()); saved >= minGzipSaving && saved*10 >= n {
		f.gzipped = bytes.Clone(gz.Bytes()) // not the buffer's spare capacity
		f.gzipTag = `"` + tag + `-gzip"`
	}
}

// compressible reports whether the file name is text worth gzipping, by its
// extension; images other than SVG are compressed already.
func compressible(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".html", ".css", ".js", ".mjs", ".json", ".map", ".svg", ".txt":
		return true
	}
	return false
}

// acceptsGzip reports whether an Accept-Encoding field (RFC 9110 12.5.3) allows gzip
// at least as much as identity: gzip (or its alias x-gzip) by its own weight, else
// by that of "*"; identity likewise, and with no stated preference when the field
// names neither (it stays acceptable, as the fallback). No field, or an empty one,
// asks for identity. A weight that does not parse refuses the coding it is on.
func acceptsGzip(lines []string) bool {
	gzipQ, identityQ, starQ := -1.0, -1.0, -1.0
	for _, line := range lines {
		for element := range strings.SplitSeq(line, ",") {
			coding, params, _ := strings.Cut(element, ";")
			q := 1.0
			for param := range strings.SplitSeq(params, ";") {
				k, v, _ := strings.Cut(param, "=")
				if strings.EqualFold(strings.TrimSpace(k), "q") {
					q = qvalue(strings.TrimSpace(v))
				}
			}
			switch strings.ToLower(strings.TrimSpace(coding)) {
			case "gzip", "x-gzip":
				gzipQ = max(gzipQ, q)
			case "identity":
				identityQ = max(identityQ, q)
			case "*":
				starQ = max(starQ, q)
			}
		}
	}
	if gzipQ < 0 {
		gzipQ = starQ
	}
	if identityQ < 0 {
		identityQ = starQ
	}
	return gzipQ > 0 && gzipQ >= identityQ
}

// qvalue parses a weight (RFC 9110 12.4.2: 0 to 1, at most three decimals); 0 for
// anything else.
func qvalue(v string) float64 {
	if len(v) == 0 || len(v) > 5 || (v[0] != '0' && v[0] != '1') {
		return 0
	}
	if len(v) > 1 && v[1] != '.' {
		return 0
	}
	q, err := strconv.ParseFloat(v, 64)
	if err != nil || q > 1 {
		return 0
	}
	return q
}
