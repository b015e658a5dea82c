package webauth

import (
	"net/url"
	"strings"
)

// maxReturnTo bounds returnTo, which is kept in the session until the callback.
const maxReturnTo = 1024

// SafeReturnTo returns s when it is a path on this origin that a browser cannot read
// as anything else, and "/" otherwise. Browsers are lenient: they treat "\" as "/",
// drop tabs and newlines, read "//host" and "/\host" as another host, and resolve
// dot segments and percent-encoded slashes differently from servers. So rather than
// normalizing, anything unusual is refused: a path must start with a single "/",
// contain no "\", no "//", no dot segment, no control or space character, none of
// these once percent-decoded, and not lead back into /auth/ (a login loop).
func SafeReturnTo(s string) string {
	if s == "" || len(s) > maxReturnTo || s[0] != '/' {
		return "/"
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f || c == '\\' {
			return "/"
		}
	}
	path, _, _ := strings.Cut(s, "?")
	path, _, _ = strings.Cut(path, "#")
	decoded, err := url.PathUnescape(path)
	if err != nil || !safePath(path) || !safePath(decoded) {
		return "/"
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	return s
}

// safePath checks one spelling (raw or decoded) of a returnTo path.
func safePath(p string) bool {
	if !strings.HasPrefix(p, "/") || strings.Contains(p, "//") || strings.ContainsRune(p, '\\') {
		return false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c <= ' ' || c == 0x7f {
			return false
		}
	}
	for seg := range strings.SplitSeq(p[1:], "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return p != "/auth" && !strings.HasPrefix(p, "/auth/")
}
