package linkbff

import (
	"bufio"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// This is the Dockerfile's lint. hadolint is not in the package registries this
// project's machines reach (Debian, npm, the Go module proxy), and no Docker engine
// runs here, so the rules the image must keep are checked by reading the file.

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	line int
	cmd  string // upper case: FROM, RUN, ...
	args string
}

// stage is one FROM and the instructions after it.
type stage struct {
	image, name string
	body        []instruction
}

func (s stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.body {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// parseDockerfile reads the instructions of a Dockerfile: comments and parser
// directives are skipped, lines ending in a backslash continue on the next.
func parseDockerfile(t *testing.T, name string) []instruction {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out     []instruction
		pending strings.Builder
		start   int
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if pending.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if pending.Len() > 0 && strings.HasPrefix(line, "#") {
			continue // a comment inside a continued instruction
		}
		if pending.Len() == 0 {
			start = n
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			pending.WriteString(cont + " ")
			continue
		}
		pending.WriteString(line)
		cmd, args, _ := strings.Cut(pending.String(), " ")
		out = append(out, instruction{line: start, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)})
		pending.Reset()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func stages(ins []instruction) []stage {
	var out []stage
	for _, in := range ins {
		if in.cmd == "FROM" {
			f := strings.Fields(in.args)
			s := stage{image: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				s.name = f[2]
			}
			out = append(out, s)
			continue
		}
		if len(out) > 0 {
			out[len(out)-1].body = append(out[len(out)-1].body, in)
		}
	}
	return out
}

var pinnedImage = regexp.MustCompile(`^([a-z0-9./-]+):([A-Za-z0-9._-]+)@sha256:([0-9a-f]{64})$`)

// goModToolchain is go.mod's toolchain version ("1.26.11").
func goModToolchain(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^toolchain go(\S+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("go.mod has no toolchain line")
	}
	return string(m[1])
}

func TestDockerfile(t *testing.T) {
	st := stages(parseDockerfile(t, "Dockerfile"))
	if len(st) < 2 {
		t.Fatalf("%d stages, want a build stage and a final one", len(st))
	}
	names := map[string]bool{}
	for _, s := range st {
		if s.name != "" {
			names[s.name] = true
		}
	}

	// Every base image: name:tag@sha256:digest.
	for _, s := range st {
		if names[s.image] {
			continue // a stage of this file
		}
		m := pinnedImage.FindStringSubmatch(s.image)
		if m == nil {
			t.Errorf("FROM %s: not pinned as name:tag@sha256:<64 hex digits>", s.image)
			continue
		}
		if strings.Trim(m[3], "0") == "" {
			// What a machine without Docker can write; under CI=true no image may be
			// built from it.
			report := t.Logf
			if os.Getenv("CI") == "true" {
				report = t.Errorf
			}
			report("FROM %s: the digest is a placeholder; run make docker-pin where Docker reaches the registry", s.image)
		}
	}

	// The Go image is go.mod's toolchain's release line, and GOTOOLCHAIN names that
	// exact toolchain (the go command fetches it, checked against the checksum
	// database): never an older Go than go.mod's, never another one.
	toolchain := goModToolchain(t)
	line := strings.Join(strings.SplitN(toolchain, ".", 3)[:2], ".") // "1.26"
	var build *stage
	for i, s := range st {
		if m := pinnedImage.FindStringSubmatch(s.image); m != nil && m[1] == "golang" {
			build = &st[i]
			if tag := m[2]; tag != line && !strings.HasPrefix(tag, line+"-") && tag != toolchain && !strings.HasPrefix(tag, toolchain+"-") {
				t.Errorf("FROM %s: the tag is not go.mod's toolchain go%s or its release line %s", s.image, toolchain, line)
			}
		}
	}
	if build == nil {
		t.Fatal("no golang build stage")
	}
	pinned := false
	for _, in := range build.all("ENV") {
		pinned = pinned || slices.Contains(strings.Fields(in.args), "GOTOOLCHAIN=go"+toolchain)
	}
	if !pinned {
		t.Errorf("the build stage does not set GOTOOLCHAIN=go%s: go could build with another toolchain than go.mod's", toolchain)
	}
	var buildCmd string
	for _, in := range build.all("RUN") {
		if strings.Contains(in.args, "go build") {
			buildCmd = in.args
		}
	}
	for _, want := range []string{"./cmd/linkbff", "-tags nodevtenant", "-trimpath", "-X main.version="} {
		if !strings.Contains(buildCmd, want) {
			t.Errorf("the go build command lacks %q: %s", want, buildCmd)
		}
	}

	final := st[len(st)-1]
	// Only the linkbff binary goes into the final image.
	copies := final.all("COPY")
	if len(copies) != 1 || final.all("ADD") != nil || !strings.HasPrefix(copies[0].args, "--from="+build.name+" ") || path.Base(strings.Fields(copies[0].args)[1]) != "linkbff" {
		t.Errorf("the final stage copies %v, want only --from=%s …/linkbff", copies, build.name)
	}
	users := final.all("USER")
	if len(users) == 0 {
		t.Error("the final stage has no USER: it would run as root")
	}
	for _, u := range users {
		if name, _, _ := strings.Cut(u.args, ":"); name == "root" || name == "0" {
			t.Errorf("line %d: USER %s", u.line, u.args)
		}
	}
	if hc := final.all("HEALTHCHECK"); len(hc) != 1 || !strings.Contains(hc[0].args, `CMD ["/usr/local/bin/linkbff", "healthcheck"]`) {
		t.Errorf("HEALTHCHECK %v, want one in exec form running linkbff healthcheck", hc)
	}
	if ep := final.all("ENTRYPOINT"); len(ep) != 1 || ep[0].args != `["/usr/local/bin/linkbff"]` {
		t.Errorf("ENTRYPOINT %v", ep)
	}
	var labels string
	for _, in := range final.all("LABEL") {
		labels += " " + in.args
	}
	for _, key := range []string{"title", "description", "source", "version", "revision", "created"} {
		if !strings.Contains(labels, "org.opencontainers.image."+key+"=") {
			t.Errorf("no org.opencontainers.image.%s label", key)
		}
	}
}

// TestDockerignore: the build context leaves out what the image must not hold or the
// build does not read, and keeps what go build needs.
func TestDockerignore(t *testing.T) {
	b, err := os.ReadFile(".dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			patterns = append(patterns, line)
		}
	}
	ignored := func(p string) bool {
		for _, pat := range patterns {
			if ok, _ := path.Match(pat, p); ok {
				return true
			}
			if strings.HasPrefix(p, pat+"/") {
				return true
			}
		}
		return false
	}
	for _, p := range []string{".git", "node_modules", "frontend/node_modules", "bin", ".cache", "tests"} {
		if !ignored(p) {
			t.Errorf(".dockerignore does not leave out %s", p)
		}
	}
	for _, p := range []string{"go.mod", "go.sum", "openapi.yaml", "openapi.go", "cmd/linkbff/main.go", "internal/server/routes.go", "api/api.gen.go", "frontend/static/index.html", "frontend/embed.go"} {
		if ignored(p) {
			t.Errorf(".dockerignore leaves out %s, which the build needs", p)
		}
	}
}
