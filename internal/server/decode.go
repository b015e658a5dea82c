package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/problem"
	"github.com/linkbff/linkbff/internal/strictjson"
)

// maxBodyBytes bounds JSON request bodies: the largest legitimate one is a link
// request holding one ID token (a few kB).
const maxBodyBytes = 64 << 10

// decodeJSON reads a JSON request body into v: JSON media type only (415), at most
// maxBodyBytes (413), exactly one JSON value, unknown members rejected, and I-JSON
// (strictjson: UTF-8, no member twice at any depth) (400).
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return problem.New(fault.UnsupportedMediaType, "Send the body as application/json.").
			WithHeader("Accept-Post", "application/json")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		return bodyError(err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bodyError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fault.New(fault.InvalidBody, "The body must hold exactly one JSON object.")
	}
	// encoding/json keeps the last of two members of one name: refuse what another
	// reader of the same body could take differently.
	if err := strictjson.Check(body); err != nil {
		if dup, ok := errors.AsType[*strictjson.DuplicateMemberError](err); ok {
			p := fault.Wrap(err, fault.InvalidBody, "The body has a member twice.")
			p.Fields = []fault.FieldError{{Field: memberPath(dup.Pointer), Message: "duplicate member"}}
			return p
		}
		return fault.Wrap(err, fault.InvalidBody, "The body is not valid JSON in UTF-8.")
	}
	return nil
}

// memberPath names a member for a problem's errors as the unknown-member and
// wrong-type errors do: "link_with" at the top level, the JSON pointer without its
// leading "/" deeper down.
func memberPath(pointer string) string {
	return strings.TrimPrefix(pointer, "/")
}

func isMaxBytes(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

func bodyError(err error) error {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
	)
	switch {
	case isMaxBytes(err):
		return fault.New(fault.BodyTooLarge, fmt.Sprintf("The body is larger than %d bytes.", maxBodyBytes))
	case errors.Is(err, io.EOF):
		return fault.New(fault.InvalidBody, "The body is empty.")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return fault.Wrap(err, fault.InvalidBody, "The body is not valid JSON.")
	case errors.As(err, &typ) && typ.Field == "":
		return fault.Wrap(err, fault.InvalidBody, "The body must be a JSON object.")
	case errors.As(err, &typ):
		p := fault.Wrap(err, fault.InvalidBody, "A member of the body has the wrong type.")
		p.Fields = []fault.FieldError{{Field: typ.Field, Message: "must be a " + jsonKind(typ.Type.Kind())}}
		return p
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		p := fault.Wrap(err, fault.InvalidBody, "The body has an unknown member.")
		p.Fields = []fault.FieldError{{Field: name, Message: "unknown member"}}
		return p
	default:
		return fault.Wrap(err, fault.InvalidBody, "The body could not be read.")
	}
}

// jsonKind names a Go kind as a JSON type, so no Go type name reaches a client.
func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	default:
		return "number"
	}
}

// writeJSON writes v as a JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
