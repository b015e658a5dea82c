// Package frontend holds the static page linkbff serves at /, embedded in the binary:
// plain HTML, CSS and JavaScript modules in static/, and static/vendor/auth0-lock.js,
// Auth0 Lock bundled by `make frontend` from package-lock.json and committed, so that
// building linkbff needs no Node.
package frontend

import (
	"embed"
	"io/fs"
)

//go:embed static
var files embed.FS

// Files returns the page's files, rooted at the site root.
func Files() fs.FS {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the directory is embedded above; this cannot fail
	}
	return sub
}
