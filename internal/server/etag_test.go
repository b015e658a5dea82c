package server

import "testing"

func TestIfNoneMatch(t *testing.T) {
	const tag = `"abc"`
	tests := []struct {
		name  string
		lines []string
		want  bool
	}{
		{"same tag", []string{`"abc"`}, true},
		{"weak form of the tag", []string{`W/"abc"`}, true},
		{"another tag", []string{`"abd"`}, false},
		{"tag in a list", []string{`"x", "abc" ,"y"`}, true},
		{"tag on a second line", []string{`"x"`, `"abc"`}, true},
		{"empty list elements", []string{` , "abc",,`}, true},
		{"star", []string{`*`}, true},
		{"star with spaces", []string{"\t* "}, true},
		{"star in a list is malformed", []string{`*, "x"`}, false},
		{"star and a tag on two lines is malformed", []string{`*`, `"abc"`}, false},
		{"unquoted", []string{`abc`}, false},
		{"unterminated", []string{`"abc`}, false},
		{"junk after a tag", []string{`"abc"x`}, false},
		{"malformed element elsewhere hides the match", []string{`"abc", nope`}, false},
		{"space inside a tag", []string{`"a bc"`}, false},
		{"lower-case weak prefix", []string{`w/"abc"`}, false},
		{"prefix of the tag", []string{`"ab"`}, false},
		{"empty field", []string{""}, false},
		{"no field", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ifNoneMatch(tt.lines, tag); got != tt.want {
				t.Errorf("ifNoneMatch(%q, %s) = %v, want %v", tt.lines, tag, got, tt.want)
			}
		})
	}
}
