package linkbff

import (
	"go/build"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const modulePath = "github.com/linkbff/linkbff"

// layer states what one package (or every package under a directory, for a key
// ending in "/...") may import. docs/architecture.md says the same in prose; this
// test keeps the two honest.
type layer struct {
	// allow lists the module's packages it may import ("/..." for a subtree); nil
	// with any set means: anything of the module not in deny.
	allow []string
	any   bool
	// deny lists packages it must not import, standard library included.
	deny []string
}

var layers = map[string]layer{
	// Leaves: the vocabulary every layer shares. No HTTP, no adapters.
	"internal/fault":   {deny: []string{"net/http"}},
	"internal/account": {deny: []string{"net/http"}},
	"internal/reqlog":  {},
	"internal/config":  {},
	// The one rule for JSON that callers write (bodies, token header and claims).
	"internal/strictjson": {},
	// The rules: no HTTP, no Auth0 client, no store adapter, no HTTP edge.
	"internal/identity": {allow: []string{"internal/account", "internal/fault", "internal/reqlog"}, deny: []string{"net/http"}},
	// The conformance suite of identity's store contract, for adapters' tests.
	"internal/identity/storetest": {allow: []string{"internal/identity", "internal/account", "internal/fault", "internal/testkit"}},
	// Adapters by technology: they implement identity's interfaces.
	"internal/store/...": {allow: []string{"internal/identity", "internal/account", "internal/fault", "internal/reqlog"}},
	"internal/mgmt":      {allow: []string{"internal/account", "internal/fault"}},
	// The Management API budget mgmt spends (mgmt declares the interface).
	"internal/budget": {},
	"internal/auth":   {allow: []string{"internal/account", "internal/fault", "internal/problem", "internal/strictjson"}},
	// Abuse limits and who the client is.
	"internal/ratelimit": {allow: []string{"internal/fault"}},
	// The browser half: sign-in, the session cookie, CSRF.
	"internal/webauth": {allow: []string{"api", "internal/auth", "internal/fault", "internal/problem", "internal/reqlog"}},
	// The conformance suite of webauth.Registry, for the registries' tests.
	"internal/webauth/registrytest": {allow: []string{"internal/webauth", "internal/testkit"}},
	// The HTTP edge: the one status table, and the routes.
	"internal/problem": {allow: []string{"api", "internal/fault"}},
	"internal/server":  {any: true, deny: []string{"internal/devtenant/...", "internal/mgmt", "internal/store/...", "internal/config", "internal/testkit"}},
	// The development tenant shares no code with linkbff: a misunderstanding of
	// Auth0 written once would otherwise pass every test.
	"internal/devtenant": {},
	// A started tenant for tests (tests alone import it: every other layer's allow
	// list leaves it out, and the layers with any deny it).
	"internal/devtenant/devtenanttest": {allow: []string{"internal/devtenant"}},
	"internal/testkit":                 {},
	"api":                              {},
	"frontend":                         {},
	"":                                 {},
	"cmd/linkbff":                      {any: true, deny: []string{"internal/testkit", "internal/devtenant/devtenanttest"}},
	"cmd/devtenant":                    {allow: []string{"internal/devtenant"}},
	"tools/...":                        {},
	// OpenTelemetry from the OTEL_* environment; off, it installs nothing.
	"internal/tracing": {},
}

func TestImportsFollowTheLayers(t *testing.T) {
	for _, pkg := range modulePackages(t) {
		rel := pkg.rel
		l, ok := layerOf(rel)
		if !ok {
			t.Errorf("%s: no layer rule; add it to layers and to docs/architecture.md", rel)
			continue
		}
		for _, imp := range pkg.Imports {
			own, inModule := strings.CutPrefix(imp, modulePath+"/")
			if imp == modulePath {
				own, inModule = "", true
			}
			switch {
			case matchAny(l.deny, own) && inModule, !inModule && slices.Contains(l.deny, imp):
				t.Errorf("%s imports %s, which its layer forbids", rel, imp)
			case inModule && !l.any && !matchAny(l.allow, own):
				t.Errorf("%s imports %s, which its layer does not allow", rel, imp)
			}
		}
	}
}

// TestArchitectureDocListsEveryPackage: docs/architecture.md has a row for every
// package of the module (the root as "."), so the page cannot fall behind the code.
func TestArchitectureDocListsEveryPackage(t *testing.T) {
	doc, err := os.ReadFile("docs/architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range modulePackages(t) {
		name := pkg.rel
		if name == "" {
			name = "."
		}
		if !strings.Contains(string(doc), "\n| `"+name+"`") {
			t.Errorf("docs/architecture.md has no row for package %s (a line starting | `%s`)", name, name)
		}
	}
}

// modulePackage is a package of the module and its non-test imports.
type modulePackage struct {
	rel string // its directory relative to the module root; "" for the root
	*build.Package
}

// modulePackages lists the module's packages, in directory order.
func modulePackages(t *testing.T) []modulePackage {
	t.Helper()
	var pkgs []modulePackage
	err := filepath.WalkDir(".", func(dir string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		name := d.Name()
		if dir != "." && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "testdata" || name == "bin") {
			return filepath.SkipDir
		}
		pkg, err := build.ImportDir(dir, 0)
		if _, ok := err.(*build.NoGoError); ok {
			return nil // no Go files here
		}
		if err != nil {
			return err // a package this test cannot read would go unchecked
		}
		rel := filepath.ToSlash(dir)
		if rel == "." {
			rel = ""
		}
		pkgs = append(pkgs, modulePackage{rel, pkg})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

// TestOnlyTheBinariesStartTheDevelopmentTenant: the tenant is wired in only by the
// programs, never by a library package.
func TestOnlyTheBinariesStartTheDevelopmentTenant(t *testing.T) {
	for key, l := range layers {
		if key == "cmd/linkbff" || key == "cmd/devtenant" || key == "internal/devtenant/devtenanttest" {
			continue // the programs, and the tests' started tenant
		}
		if matchAny(l.allow, "internal/devtenant") || (l.any && !matchAny(l.deny, "internal/devtenant")) {
			t.Errorf("layer %q may import internal/devtenant", key)
		}
	}
}

func layerOf(rel string) (layer, bool) {
	if l, ok := layers[rel]; ok {
		return l, true
	}
	for key, l := range layers {
		if prefix, ok := strings.CutSuffix(key, "/..."); ok && strings.HasPrefix(rel, prefix+"/") {
			return l, true
		}
	}
	return layer{}, false
}

func matchAny(patterns []string, pkg string) bool {
	for _, p := range patterns {
		if prefix, ok := strings.CutSuffix(p, "/..."); ok {
			if pkg == prefix || strings.HasPrefix(pkg, prefix+"/") {
				return true
			}
		} else if p == pkg || path.Clean(p) == pkg {
			return true
		}
	}
	return false
}
