package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/internal/fault"
)

// TestDecodeJSONRefusesDuplicatesAtAnyDepth: a member twice in a nested object is
// refused like one at the top level, and named by its path, although encoding/json
// alone would take the last and decode without complaint.
func TestDecodeJSONRefusesDuplicatesAtAnyDepth(t *testing.T) {
	type nested struct {
		Outer struct {
			Items []struct {
				Name string `json:"name"`
			} `json:"items"`
		} `json:"outer"`
	}
	for body, field := range map[string]string{
		`{"outer":{"items":[{"name":"a"},{"name":"b","name":"c"}]}}`: "outer/items/1/name",
		`{"outer":{"items":[],"items":[{"name":"a"}]}}`:              "outer/items",
		`{"outer":{},"outer":{"items":[]}}`:                          "outer",
	} {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		var v nested
		err := decodeJSON(httptest.NewRecorder(), r, &v)
		fe := fault.From(err)
		if err == nil || fe.Code != fault.InvalidBody {
			t.Errorf("%s: %v, want invalid_body", body, err)
			continue
		}
		if diff := cmp.Diff([]fault.FieldError{{Field: field, Message: "duplicate member"}}, fe.Fields); diff != "" {
			t.Errorf("%s: fields (-want +got):\n%s", body, diff)
		}
	}
	// The same shapes without a duplicate decode.
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"outer":{"items":[{"name":"a"},{"name":"b"}]}}`))
	r.Header.Set("Content-Type", "application/json")
	var v nested
	if err := decodeJSON(httptest.NewRecorder(), r, &v); err != nil || len(v.Outer.Items) != 2 || v.Outer.Items[1].Name != "b" {
		t.Errorf("decoded %+v, %v", v, err)
	}
}
