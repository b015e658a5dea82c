package server

import (
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// readyTimeout bounds the readiness check.
const readyTimeout = 3 * time.Second

// frontendHandler serves the embedded page with a Content-Security-Policy that allows
// scripts and connections to ourselves and the tenant only (Lock loads the client
// configuration as JSONP and fetches the JWKS from the tenant).
// Paths that name no file get notFound (a problem), not the file server's text page.
func frontendHandler(files fs.FS, tenant string, notFound http.HandlerFunc) http.Handler {
	csp := "default-src 'self'; script-src 'self' " + tenant + "; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; connect-src 'self' " + tenant + "; frame-ancestors 'none'; base-uri 'self'; form-action 'self' " + tenant
	fileServer := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if name == "" {
			name = "."
		}
		if !servable(files, name) || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			notFound(w, r)
			return
		}
		w.Header().Set("Content-Security-Policy", csp)
		fileServer.ServeHTTP(w, r)
	})
}

// servable reports whether name is a file, or a directory with an index.html (the
// file server would list any other directory).
func servable(files fs.FS, name string) bool {
	info, err := fs.Stat(files, name)
	if err != nil {
		return false
	}
	if !info.IsDir() {
		return true
	}
	_, err = fs.Stat(files, path.Join(name, "index.html"))
	return err == nil
}
