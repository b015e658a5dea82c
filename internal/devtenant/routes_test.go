package devtenant

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDocsListEveryRoute holds the Endpoints table of docs/devtenant.md to the route
// table: the same routes, with the same CORS marks.
func TestDocsListEveryRoute(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "devtenant.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n## Endpoints\n")
	if !ok {
		t.Fatal("docs/devtenant.md has no Endpoints section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	row := regexp.MustCompile("(?m)^\\| `([A-Z]+ /[^`]*)` \\|.*\\| *(yes)? *\\|$")
	documented := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		documented[m[1]] = m[2] == "yes"
	}
	routed := map[string]bool{}
	for _, rt := range routeTable() {
		routed[rt.pattern] = rt.cors
	}
	if diff := cmp.Diff(routed, documented); diff != "" {
		t.Errorf("the Endpoints table of docs/devtenant.md differs from routeTable (-routed +documented, value: CORS):\n%s", diff)
	}
}

// TestImportsNoLinkbffPackage keeps the tenant an independent reading of Auth0's
// contract: its code imports none of linkbff's own packages (its tests may use
// internal/testkit).
func TestImportsNoLinkbffPackage(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if path, _ := strconv.Unquote(imp.Path.Value); strings.HasPrefix(path, "github.com/linkbff/linkbff/") {
				t.Errorf("%s imports %s", name, path)
			}
		}
	}
}
