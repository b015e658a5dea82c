package server

// ifNoneMatch reports whether the If-None-Match field lines (RFC 9110 13.1.2) hold
// etag, the current strong tag of the representation: "*", or a listed tag equal to
// it by weak comparison (a W/ prefix on either side is ignored). A field that does
// not parse as "*" or a list of entity tags is ignored (no match): answering in
// full is always correct, a wrong 304 never is. Lines are joined as one list, as
// RFC 9110 5.3 has recipients do.
func ifNoneMatch(lines []string, etag string) bool {
	etag = trimWeak(etag)
	match, star, tags := false, false, 0
	for _, v := range lines {
		for {
			v = trimOWS(v)
			if v == "" {
				break
			}
			if v[0] == ',' { // empty list elements are allowed
				v = v[1:]
				continue
			}
			var tag string
			switch {
			case v[0] == '*':
				star, tag, v = true, "*", v[1:]
			default:
				var ok bool
				if tag, v, ok = cutEntityTag(v); !ok {
					return false
				}
				tags++
				if trimWeak(tag) == etag {
					match = true
				}
			}
			v = trimOWS(v)
			if v != "" && v[0] != ',' {
				return false // junk after an element
			}
		}
	}
	if star {
		return tags == 0 // "*" stands alone
	}
	return match
}

// cutEntityTag splits the entity tag ([W/]"etagc*") at the start of v from the rest.
func cutEntityTag(v string) (tag, rest string, ok bool) {
	i := 0
	if len(v) >= 2 && v[0] == 'W' && v[1] == '/' {
		i = 2
	}
	if i >= len(v) || v[i] != '"' {
		return "", "", false
	}
	for j := i + 1; j < len(v); j++ {
		switch c := v[j]; {
		case c == '"':
			return v[:j+1], v[j+1:], true
		case c == 0x21 || c >= 0x23 && c != 0x7f: // etagc: %x21 / %x23-7E / obs-text
		default:
			return "", "", false
		}
	}
	return "", "", false
}

func trimWeak(tag string) string {
	if len(tag) >= 2 && tag[0] == 'W' && tag[1] == '/' {
		return tag[2:]
	}
	return tag
}

// trimOWS trims optional whitespace (spaces and tabs) from both ends.
func trimOWS(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}
