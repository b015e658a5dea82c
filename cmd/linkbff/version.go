package main

import (
	"fmt"
	"runtime/debug"
)

// version is the release, set at build time with
// -ldflags "-X main.version=v1.2.3" (the Makefile and the Dockerfile do); without
// it, the module version Go recorded (a pseudo-version from VCS data, or "(devel)").
var version string

// revision is the VCS commit, set like version (-X main.revision=...) where Go
// cannot read it, as in a container build without .git.
var revision string

// buildInfo says which linkbff this is.
type buildInfo struct {
	Version   string // the release, or what Go recorded
	Revision  string // the VCS commit, when Go recorded one
	GoVersion string // the toolchain that built it
}

func (b buildInfo) String() string {
	s := fmt.Sprintf("linkbff %s (%s", b.Version, b.GoVersion)
	if b.Revision != "" {
		s += ", revision " + b.Revision
	}
	return s + ")"
}

// readBuildInfo reads the build's version, revision and toolchain.
func readBuildInfo() buildInfo {
	b := buildInfo{Version: version, Revision: revision, GoVersion: "unknown"}
	info, ok := debug.ReadBuildInfo()
	if ok {
		b.GoVersion = info.GoVersion
		if b.Version == "" {
			b.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && b.Revision == "" {
				b.Revision = s.Value
			}
		}
	}
	if b.Version == "" {
		b.Version = "(devel)"
	}
	return b
}
