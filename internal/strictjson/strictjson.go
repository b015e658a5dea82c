// Package strictjson owns the one rule for JSON text that callers control (request
// bodies, the header and claims of tokens): it must be I-JSON (RFC 7493), that is
// one JSON value in UTF-8, whose escapes decode to Unicode characters, and with no
// member name twice in one object, at any depth. encoding/json keeps the last of two
// members of one name where other parsers keep the first or refuse, so a text with
// duplicates could mean one thing to linkbff and another to whatever reads it next.
package strictjson

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/go-json-experiment/json/jsontext"
)

// DuplicateMemberError is Check's error for a member name that appears twice in one
// object.
type DuplicateMemberError struct {
	// Pointer is the JSON pointer (RFC 6901) of the second member of that name,
	// e.g. "/link_with", or "/a/b" for member b of the object at member a.
	Pointer string
}

func (e *DuplicateMemberError) Error() string {
	return fmt.Sprintf("member %q appears twice", truncate(e.Pointer))
}

// Check returns nil when b is one I-JSON value (whitespace around it allowed), a
// *DuplicateMemberError for a repeated member name, and another error saying what
// else is wrong.
func Check(b []byte) error {
	if jsontext.Value(b).IsValid() {
		return nil
	}
	// Only a refused text pays for finding out why.
	dec := jsontext.NewDecoder(bytes.NewReader(b))
	_, err := dec.ReadValue()
	if err == nil {
		// The value was good, so what follows it is not.
		if _, err = dec.ReadToken(); err == nil {
			return errors.New("data after the JSON value")
		}
	}
	if serr, ok := errors.AsType[*jsontext.SyntacticError](err); ok && errors.Is(serr.Err, jsontext.ErrDuplicateName) {
		return &DuplicateMemberError{Pointer: string(serr.JSONPointer)}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("not a complete JSON value")
	}
	return fmt.Errorf("not valid JSON: %w", err)
}

// truncate shortens what a caller wrote before it goes into an error (and a log).
func truncate(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
