// Package frontend holds the static page linkbff serves at /, embedded in the binary.
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
