package strictjson_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/linkbff/linkbff/internal/strictjson"
)

func TestCheckAccepts(t *testing.T) {
	for _, s := range []string{
		`{}`, `[]`, `null`, `"x"`, `1.5e3`, " {\"a\":1}\n\t",
		`{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}`, // one name in different objects
		`{"a":"\u00e9\ud83d\ude00"}`,                // a surrogate pair is one character
		`{"é":"ü"}`,
		`{"a":1,"A":2}`, // names are compared exactly, as JSON does
	} {
		if err := strictjson.Check([]byte(s)); err != nil {
			t.Errorf("Check(%s) = %v, want nil", s, err)
		}
	}
}

func TestCheckRefusesDuplicateMembersAtAnyDepth(t *testing.T) {
	for s, pointer := range map[string]string{
		`{"a":1,"a":2}`:                    "/a",
		`{"a":1,"b":2,"a":1}`:              "/a",
		`{"o":{"x":1,"x":1}}`:              "/o/x",
		`{"l":[1,{"x":{"y":1,"y":[]}}]}`:   "/l/1/x/y",
		`[{"k":1},{"k":1,"k":2}]`:          "/1/k",
		`{"a":1,"\u0061":2}`:               "/a", // the same name, escaped
		`{"a/b":{"c~d":0,"c~d":0}}`:        "/a~1b/c~0d",
		`{"link_with":"x","link_with":""}`: "/link_with",
	} {
		err := strictjson.Check([]byte(s))
		dup, ok := errors.AsType[*strictjson.DuplicateMemberError](err)
		if !ok {
			t.Errorf("Check(%s) = %v, want a DuplicateMemberError", s, err)
			continue
		}
		if dup.Pointer != pointer {
			t.Errorf("Check(%s): pointer %q, want %q", s, dup.Pointer, pointer)
		}
	}
}

func TestCheckRefusesWhatIsNotIJSON(t *testing.T) {
	for name, s := range map[string]string{
		"empty":              ``,
		"whitespace only":    " \n",
		"truncated":          `{"a":`,
		"syntax":             `{"a" 1}`,
		"two values":         `{} {}`,
		"trailing garbage":   `{"a":1} x`,
		"invalid UTF-8":      "{\"a\":\"\xff\"}",
		"invalid UTF-8 name": "{\"\xc3\":1}",
		"lone surrogate":     `{"a":"\ud800"}`,
		"bad escape":         `{"a":"\x"}`,
		"single quotes":      `{'a':1}`,
		"trailing comma":     `{"a":1,}`,
		"NaN":                `NaN`,
	} {
		err := strictjson.Check([]byte(s))
		if err == nil {
			t.Errorf("%s: Check(%q) = nil", name, s)
			continue
		}
		if _, ok := errors.AsType[*strictjson.DuplicateMemberError](err); ok {
			t.Errorf("%s: Check(%q) = %v, a duplicate member", name, s, err)
		}
	}
}

// A caller's member name goes into the error (and a log) shortened.
func TestDuplicateMemberErrorIsShort(t *testing.T) {
	name := strings.Repeat("n", 10_000)
	err := strictjson.Check([]byte(`{"` + name + `":1,"` + name + `":2}`))
	if err == nil {
		t.Fatal("Check accepted a duplicate member")
	}
	if len(err.Error()) > 100 {
		t.Errorf("error of %d bytes: %.200v", len(err.Error()), err)
	}
}
