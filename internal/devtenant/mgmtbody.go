package devtenant

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
)

func invalidBody(message string) *apiError {
	return &apiError{http.StatusBadRequest, "Payload validation error: " + message, "invalid_body"}
}

// readJSONObject reads a JSON request body (capped by mgmtEndpoint) that must be a
// JSON object and returns its members undecoded, or the error Auth0 answers.
func readJSONObject(r *http.Request) (map[string]json.RawMessage, *apiError) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, &apiError{status: http.StatusUnsupportedMediaType, message: http.StatusText(http.StatusUnsupportedMediaType)}
	}
	raw, err := io.ReadAll(r.Body)
	if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
		return nil, &apiError{status: http.StatusRequestEntityTooLarge,
			message: fmt.Sprintf("Payload content length greater than maximum allowed: %d", mgmtMaxBody)}
	}
	if err != nil {
		return nil, &apiError{status: http.StatusBadRequest, message: "Invalid request payload"}
	}
	return decodeObject(raw)
}

// decodeObject parses raw as a JSON object. An empty body is JSON null, as for hapi.
func decodeObject(raw []byte) (map[string]json.RawMessage, *apiError) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		raw = []byte("null")
	}
	if !json.Valid(raw) {
		return nil, &apiError{http.StatusBadRequest, "Invalid request payload JSON format", "invalid_body"}
	}
	if typ := jsonType(raw); typ != "object" {
		return nil, invalidBody(fmt.Sprintf("'Expected type object but found type %s'.", typ))
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, &apiError{http.StatusBadRequest, "Invalid request payload JSON format", "invalid_body"}
	}
	return obj, nil
}

// jsonType names the JSON type of a valid JSON value, as JSON Schema validators do.
func jsonType(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "null"
	}
	switch raw[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	if bytes.ContainsAny(raw, ".eE") {
		return "number"
	}
	return "integer"
}

// rejectUnknown answers Auth0's message for members outside allowed.
func rejectUnknown(obj map[string]json.RawMessage, allowed ...string) *apiError {
	var extra []string
	for k := range obj {
		if !slices.Contains(allowed, k) {
			extra = append(extra, k)
		}
	}
	if len(extra) == 0 {
		return nil
	}
	slices.Sort(extra)
	return invalidBody(fmt.Sprintf("'Additional properties not allowed: %s'.", strings.Join(extra, ",")))
}

// wrongType is the validation error for a member of the wrong JSON type.
func wrongType(property, want string, got json.RawMessage) *apiError {
	return invalidBody(fmt.Sprintf("'Expected type %s but found type %s' on property %s.", want, jsonType(got), property))
}

// memberString decodes a string member; null is allowed only when nullable, and read
// as "" (what a null profile string leaves).
func memberString(obj map[string]json.RawMessage, name string, nullable bool) (s string, err *apiError) {
	raw := obj[name]
	switch jsonType(raw) {
	case "string":
		_ = json.Unmarshal(raw, &s)
		return s, nil
	case "null":
		if nullable {
			return "", nil
		}
	}
	return "", wrongType(name, "string", raw)
}

// memberObject decodes an object member (nil when absent).
func memberObject(obj map[string]json.RawMessage, name string) (map[string]any, *apiError) {
	raw, ok := obj[name]
	if !ok {
		return nil, nil
	}
	var m map[string]any
	if jsonType(raw) != "object" || json.Unmarshal(raw, &m) != nil {
		return nil, wrongType(name, "object", raw)
	}
	return m, nil
}
