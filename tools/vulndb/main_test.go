package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSemverLess(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"", "0.0.1", true},
		{"0.0.1", "", false},
		{"", "", false},
		{"1.2.3", "1.2.3", false},
		{"1.2.3", "1.2.4", true},
		{"1.9.0", "1.10.0", true},
		{"1.10.0", "1.9.0", false},
		{"2.0.0", "10.0.0", true},
		{"1.0.0-rc.1", "1.0.0", true},
		{"1.0.0", "1.0.0-rc.1", false},
		{"1.0.0-alpha", "1.0.0-alpha.1", true},
		{"1.0.0-alpha.1", "1.0.0-alpha.beta", true},
		{"1.0.0-beta.2", "1.0.0-beta.11", true},
		{"1.0.0-rc.1", "1.0.0-beta.11", false},
		{"1.21.0-0", "1.21.0", true}, // the stdlib "introduced" form
		{"0.0.0-20200101000000-abcdef123456", "0.0.0-20210101000000-abcdef123456", true},
		{"0.0.0-20210101000000-abcdef123456", "0.1.0", true},
		{"1.2.3+build.5", "1.2.3", false},
		{"1.2", "1.2.0", true},    // invalid < valid
		{"01.2.3", "1.2.3", true}, // leading zero: invalid
	}
	for _, tt := range tests {
		if got := semverLess(tt.a, tt.b); got != tt.want {
			t.Errorf("semverLess(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestLatestFixed(t *testing.T) {
	tests := []struct {
		name string
		json string
		want string
	}{
		{"one fix", `[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.6.0"}]}]`, "1.6.0"},
		{"branches", `[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.20.14"},{"introduced":"1.21.0-0"},{"fixed":"1.21.7"},{"introduced":"1.22.0-0"},{"fixed":"1.22.1"}]}]`, "1.22.1"},
		{"reintroduced", `[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.0"},{"introduced":"1.3.0"}]}]`, ""},
		{"no fix", `[{"type":"SEMVER","events":[{"introduced":"0"}]}]`, ""},
		{"not semver", `[{"type":"GIT","events":[{"introduced":"0"},{"fixed":"abc"}]}]`, ""},
	}
	for _, tt := range tests {
		var ranges []osvRange
		if err := json.Unmarshal([]byte(tt.json), &ranges); err != nil {
			t.Fatal(err)
		}
		if got := latestFixed(ranges); got != tt.want {
			t.Errorf("%s: latestFixed = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestRun(t *testing.T) {
	src := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("GO-2024-0002.json", `{"id":"GO-2024-0002","modified":"0001-01-01T00:00:00Z","aliases":["CVE-2024-2"],
		"affected":[{"package":{"name":"example.com/b","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.1.0"}]}]},
		            {"package":{"name":"example.com/a","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}]}]}`)
	write("GO-2024-0001.json", `{"id":"GO-2024-0001","modified":"2024-05-01T00:00:00Z",
		"affected":[{"package":{"name":"example.com/b","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.0.1"}]}]}]}`)
	write("README.md", "not an entry")
	out := filepath.Join(t.TempDir(), "db")

	if err := run([]string{"-src", src, "-out", out, "-modified", "2026-01-02T03:04:05Z"}, os.Stderr); err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	want := map[string]string{
		"index/db.json": `{"modified":"2026-01-02T03:04:05Z"}`,
		"index/modules.json": `[{"path":"example.com/a","vulns":[{"id":"GO-2024-0002","modified":"0001-01-01T00:00:00Z"}]},` +
			`{"path":"example.com/b","vulns":[{"id":"GO-2024-0001","modified":"2024-05-01T00:00:00Z","fixed":"1.0.1"},{"id":"GO-2024-0002","modified":"0001-01-01T00:00:00Z","fixed":"1.1.0"}]}]`,
		"index/vulns.json": `[{"id":"GO-2024-0001","modified":"2024-05-01T00:00:00Z"},{"id":"GO-2024-0002","modified":"0001-01-01T00:00:00Z","aliases":["CVE-2024-2"]}]`,
	}
	for name, w := range want {
		if diff := cmp.Diff(w, read(name)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	src1, _ := os.ReadFile(filepath.Join(src, "GO-2024-0001.json"))
	if got := read("ID/GO-2024-0001.json"); got != string(src1) {
		t.Errorf("ID/GO-2024-0001.json is not a copy of its source")
	}

	if err := run([]string{"-src", src, "-out", out}, os.Stderr); err == nil {
		t.Error("run into an existing directory: no error")
	}
	write("GO-2024-0003.json", `{"id":"GO-2024-0004"}`)
	if err := run([]string{"-src", src, "-out", out + "2"}, os.Stderr); err == nil {
		t.Error("entry whose id differs from its file name: no error")
	}
}
