package server

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/linkbff/linkbff/api"
	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/problem"
)

// FuzzDecodeJSON: any body under any Content-Type either decodes into exactly what
// encoding/json reads from it, from a JSON media type, within the size limit and with
// only known members, or is refused as a client error (400, 413 or 415) that says so.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range [][2]string{
		{"application/json", `{"link_with":"a.b.c"}`},
		{"application/json; charset=utf-8", `{"link_with":"x"} `},
		{"application/problem+json", `{"link_with":""}`},
		{"application/json", `{"link_with":"x","extra":1}`},
		{"application/json", `{"link_with":1}`},
		{"application/json", `{"link_with":"x"}{"link_with":"y"}`},
		{"application/json", `[]`},
		{"application/json", `null`},
		{"application/json", ``},
		{"text/plain", `{"link_with":"x"}`},
		{"", `{"link_with":"x"}`},
		{"application/json", `{"LINK_WITH":"x"}`},
		{"application/json", `{"link_with":"\ud800"}`},
		{"application/json", `{"link_with":"x","link_with":"y"}`},
		{"application/json", `{"link_with":"x","link\u005fwith":"x"}`},
		{"application/json", `{"link_with":"` + strings.Repeat("a", maxBodyBytes) + `"}`},
	} {
		f.Add(s[0], []byte(s[1]))
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/me/identities", bytes.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		var req api.LinkRequest
		err := decodeJSON(httptest.NewRecorder(), r, &req)
		if err != nil {
			p := problem.From(err)
			allowed := []fault.Code{fault.InvalidBody, fault.BodyTooLarge, fault.UnsupportedMediaType}
			if !slices.Contains(allowed, p.Fault.Code) {
				t.Fatalf("refused with %s (%v), want one of %v", p.Fault.Code, err, allowed)
			}
			if s := p.Status(); s < 400 || s > 499 {
				t.Fatalf("refused with status %d", s)
			}
			return
		}
		mt, _, perr := mime.ParseMediaType(contentType)
		if perr != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			t.Errorf("accepted Content-Type %q", contentType)
		}
		if len(body) > maxBodyBytes {
			t.Errorf("accepted %d bytes, over the limit of %d", len(body), maxBodyBytes)
		}
		var want api.LinkRequest
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("accepted a body encoding/json refuses: %v", err)
		}
		if hasDuplicateMember(t, body) {
			t.Errorf("accepted a body with a member twice: %q", body)
		}
		if want != req {
			t.Errorf("decoded %+v, encoding/json reads %+v", req, want)
		}
	})
}

// hasDuplicateMember reports whether body, a JSON object that encoding/json decodes
// into api.LinkRequest, names one of its members twice (by encoding/json's own
// reading, independent of the decoder's check). Its members are strings, so only the
// top level can repeat a name.
func hasDuplicateMember(t *testing.T, body []byte) bool {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	if _, err := dec.Token(); err != nil { // {
		t.Fatalf("accepted body %q is not an object: %v", body, err)
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("accepted body %q: %v", body, err)
		}
		name, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("accepted body %q: %v", body, err)
		}
		if seen[name] {
			return true
		}
		seen[name] = true
	}
	return false
}
