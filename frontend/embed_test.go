package frontend_test

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/linkbff/linkbff/frontend"
)

// TestPageRunsUnderTheContentSecurityPolicy: the page's HTML has no inline script and
// no inline event handler, which its Content-Security-Policy (script-src without
// 'unsafe-inline') would block.
func TestPageRunsUnderTheContentSecurityPolicy(t *testing.T) {
	files := frontend.Files()
	err := fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || !strings.HasSuffix(name, ".html") {
			return err
		}
		html := read(t, files, name)
		for _, tag := range regexp.MustCompile(`(?is)<script\b[^>]*>`).FindAllString(html, -1) {
			if !strings.Contains(tag, "src=") {
				t.Errorf("%s: inline script %s", name, tag)
			}
		}
		if m := regexp.MustCompile(`(?i)\son[a-z]+\s*=|javascript:`).FindString(html); m != "" {
			t.Errorf("%s: inline JavaScript %q", name, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestPageReferencesExist: every file the page's HTML, CSS and scripts name is
// embedded: a renamed icon or module would otherwise show up only in a browser.
func TestPageReferencesExist(t *testing.T) {
	files := frontend.Files()
	refs := regexp.MustCompile(`(?:src|href)="(/[^"?#]*)"|from '\./([^']+)'|'(/[A-Za-z0-9_./-]+\.(?:svg|png|js|css))'|\x60(/icons/)\$\{`)
	served := map[string]bool{"/auth/login": true, "/auth/logout": true, "/": true}
	checked := 0
	err := fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(name, ".html") || strings.HasSuffix(name, ".js") && !strings.HasPrefix(name, "vendor/")) {
			return err
		}
		for _, m := range refs.FindAllStringSubmatch(read(t, files, name), -1) {
			ref := m[1] + m[3] + m[4]
			if m[2] != "" {
				ref = "/" + m[2]
			}
			checked++
			if served[ref] {
				continue
			}
			if _, err := fs.Stat(files, strings.TrimPrefix(strings.TrimSuffix(ref, "/"), "/")); err != nil {
				t.Errorf("%s names %s, which is not embedded", name, ref)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 10 {
		t.Fatalf("found only %d references: the pattern no longer matches the page", checked)
	}
	// providers.js builds icon paths from names: each one it names must exist.
	for _, m := range regexp.MustCompile(`icon: '([a-z0-9-]+)'`).FindAllStringSubmatch(read(t, files, "providers.js"), -1) {
		if _, err := fs.Stat(files, "icons/"+m[1]+".svg"); err != nil {
			t.Errorf("providers.js names icon %s, but icons/%s.svg is not embedded", m[1], m[1])
		}
	}
}

func read(t *testing.T, files fs.FS, name string) string {
	t.Helper()
	b, err := fs.ReadFile(files, name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
