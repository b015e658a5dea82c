// Command vulndb turns the OSV entries that the golang.org/x/vulndb module
// ships in data/osv into a Go vulnerability database in the v1 layout that
// `govulncheck -db file:///abs/dir` reads (https://go.dev/security/vuln/database#api):
//
//	index/db.json       {"modified": T}
//	index/modules.json  [{"path": M, "vulns": [{"id", "modified", "fixed"}]}]
//	index/vulns.json    [{"id", "modified", "aliases"}]
//	ID/GO-YYYY-NNNN.json  each entry, byte for byte as shipped
//
// It mirrors x/vulndb's own generator (internal/database), which needs the
// vulndb git history for timestamps; the module zip has none, so every
// entry's "modified" stays as shipped and db.json's "modified" is the
// snapshot time given with -modified. tools/vulndb.sh drives it.
//
// Standard library only, so it builds without touching go.mod.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "vulndb:", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("vulndb", flag.ContinueOnError)
	fs.SetOutput(stderr)
	src := fs.String("src", "", "directory of OSV entries (GO-*.json), e.g. data/osv of golang.org/x/vulndb")
	out := fs.String("out", "", "directory to write the database to (must not exist)")
	modified := fs.String("modified", "", "RFC 3339 time of the snapshot, used for index/db.json when later than every entry")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *src == "" || *out == "" {
		return errors.New("-src and -out are required")
	}
	var snapshot time.Time
	if *modified != "" {
		t, err := time.Parse(time.RFC3339, *modified)
		if err != nil {
			return fmt.Errorf("-modified: %w", err)
		}
		snapshot = t.UTC()
	}
	if _, err := os.Stat(*out); err == nil {
		return fmt.Errorf("%s already exists", *out)
	}

	entries, err := readEntries(*src)
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return fmt.Errorf("no OSV entries in %s", *src)
	}
	idx := buildIndex(entries, snapshot)

	if err := os.MkdirAll(filepath.Join(*out, "index"), 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(*out, "ID"), 0o755); err != nil {
		return err
	}
	for name, v := range map[string]any{"db.json": idx.db, "modules.json": idx.modules, "vulns.json": idx.vulns} {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(*out, "index", name), b, 0o644); err != nil {
			return err
		}
	}
	for _, e := range entries {
		if err := os.WriteFile(filepath.Join(*out, "ID", e.ID+".json"), e.raw, 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "vulndb: %d entries, %d modules\n", len(entries), len(idx.modules))
	return nil
}

// entry is the part of an OSV entry (https://ossf.github.io/osv-schema/) that
// the indexes need, plus the entry's bytes.
type entry struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Aliases  []string  `json:"aliases,omitempty"`
	Affected []struct {
		Package struct {
			Name      string `json:"name"` // the module path, or "stdlib" / "toolchain"
			Ecosystem string `json:"ecosystem"`
		} `json:"package"`
		Ranges []osvRange `json:"ranges"`
	} `json:"affected"`

	raw []byte
}

type osvRange struct {
	Type   string `json:"type"`
	Events []struct {
		Introduced string `json:"introduced,omitempty"`
		Fixed      string `json:"fixed,omitempty"`
	} `json:"events"`
}

func readEntries(dir string) ([]*entry, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	var entries []*entry
	seen := map[string]bool{}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		e := &entry{raw: b}
		if err := json.Unmarshal(b, e); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if filepath.Base(name) != e.ID+".json" {
			return nil, fmt.Errorf("%s: holds entry %q; want a file named <id>.json", name, e.ID)
		}
		if seen[e.ID] {
			return nil, fmt.Errorf("entry %s appears twice", e.ID)
		}
		seen[e.ID] = true
		entries = append(entries, e)
	}
	return entries, nil
}

type dbMeta struct {
	Modified time.Time `json:"modified"`
}

type moduleVuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Fixed    string    `json:"fixed,omitempty"`
}

type module struct {
	Path  string       `json:"path"`
	Vulns []moduleVuln `json:"vulns"`
}

type vuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
	Aliases  []string  `json:"aliases,omitempty"`
}

type index struct {
	db      dbMeta
	modules []*module // sorted by path, vulns by id
	vulns   []vuln    // sorted by id
}

// buildIndex computes the indexes as x/vulndb's internal/database.New does.
func buildIndex(entries []*entry, snapshot time.Time) index {
	idx := index{db: dbMeta{Modified: snapshot}}
	byPath := map[string]*module{}
	for _, e := range entries {
		if e.Modified.After(idx.db.Modified) {
			idx.db.Modified = e.Modified
		}
		idx.vulns = append(idx.vulns, vuln{ID: e.ID, Modified: e.Modified, Aliases: e.Aliases})
		for _, a := range e.Affected {
			m := byPath[a.Package.Name]
			if m == nil {
				m = &module{Path: a.Package.Name, Vulns: []moduleVuln{}}
				byPath[a.Package.Name] = m
				idx.modules = append(idx.modules, m)
			}
			m.Vulns = append(m.Vulns, moduleVuln{ID: e.ID, Modified: e.Modified, Fixed: latestFixed(a.Ranges)})
		}
	}
	slices.SortStableFunc(idx.modules, func(a, b *module) int { return strings.Compare(a.Path, b.Path) })
	for _, m := range idx.modules {
		slices.SortStableFunc(m.Vulns, func(a, b moduleVuln) int { return strings.Compare(a.ID, b.ID) })
	}
	slices.SortStableFunc(idx.vulns, func(a, b vuln) int { return strings.Compare(a.ID, b.ID) })
	return idx
}

// latestFixed returns the latest fixed version of the SEMVER ranges, or ""
// when a later introduction re-opens the vulnerability (so no version is
// known to be safe). govulncheck skips an entry for a module version at or
// above this value without reading it, so it must never be too low.
// It follows x/vulndb's osvutils.LatestFixed.
func latestFixed(ranges []osvRange) string {
	var latest string
	for _, r := range ranges {
		if r.Type != "SEMVER" {
			continue
		}
		for _, e := range r.Events {
			if e.Fixed != "" && semverLess(latest, e.Fixed) {
				latest = e.Fixed
			}
		}
		for _, e := range r.Events {
			if e.Introduced != "" && e.Introduced != "0" && semverLess(latest, e.Introduced) {
				latest = ""
				break
			}
		}
	}
	return latest
}

// semverLess reports whether a < b in SemVer 2.0.0 precedence, for versions
// without a "v" prefix as OSV writes them. Like golang.org/x/mod/semver, an
// invalid version (including "") is less than any valid one.
func semverLess(a, b string) bool {
	va, okA := parseSemver(a)
	vb, okB := parseSemver(b)
	if !okA || !okB {
		return !okA && okB
	}
	for i := range 3 {
		if c := compareNumeric(va.core[i], vb.core[i]); c != 0 {
			return c < 0
		}
	}
	return comparePrerelease(va.pre, vb.pre) < 0
}

type semver struct {
	core [3]string // major, minor, patch: decimal digits without leading zeros
	pre  []string  // prerelease identifiers; nil for a release
}

func parseSemver(v string) (semver, bool) {
	var s semver
	if i := strings.IndexByte(v, '+'); i >= 0 {
		if !validIdents(v[i+1:], false) {
			return s, false
		}
		v = v[:i]
	}
	if i := strings.IndexByte(v, '-'); i >= 0 {
		if !validIdents(v[i+1:], true) {
			return s, false
		}
		s.pre = strings.Split(v[i+1:], ".")
		v = v[:i]
	}
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return s, false
	}
	for i, p := range parts {
		if !isNumeric(p) || (len(p) > 1 && p[0] == '0') {
			return s, false
		}
		s.core[i] = p
	}
	return s, true
}

// validIdents checks dot-separated identifiers of [0-9A-Za-z-]; numeric
// prerelease identifiers must not have leading zeros.
func validIdents(s string, pre bool) bool {
	for id := range strings.SplitSeq(s, ".") {
		if id == "" {
			return false
		}
		for _, c := range id {
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
				return false
			}
		}
		if pre && isNumeric(id) && len(id) > 1 && id[0] == '0' {
			return false
		}
	}
	return true
}

func isNumeric(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// compareNumeric compares decimal strings without leading zeros, of any length.
func compareNumeric(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

func comparePrerelease(a, b []string) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil: // a release is greater than any of its prereleases
		return 1
	case b == nil:
		return -1
	}
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := a[i], b[i]
		nx, ny := isNumeric(x), isNumeric(y)
		var c int
		switch {
		case nx && ny:
			c = compareNumeric(x, y)
		case nx: // numeric identifiers sort before alphanumeric ones
			c = -1
		case ny:
			c = 1
		default:
			c = strings.Compare(x, y)
		}
		if c != 0 {
			return c
		}
	}
	return len(a) - len(b)
}
