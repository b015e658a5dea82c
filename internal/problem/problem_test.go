package problem_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/api"
	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/problem"
)

func decodeBody(t *testing.T, w *httptest.ResponseRecorder) api.Problem {
	t.Helper()
	var b api.Problem
	dec := json.NewDecoder(w.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		t.Fatalf("decoding problem body %q: %v", w.Body.String(), err)
	}
	return b
}

func ptr[T any](v T) *T { return &v }

func TestWriteRendersProblem(t *testing.T) {
	p := problem.New(fault.IdentityExists, "This identity is already linked.")
	p.Fault.Fields = []fault.FieldError{{Field: "link_with", Message: "already linked"}}
	p.WithHeader("WWW-Authenticate", `Bearer realm="linkbff"`)
	p.Header.Add("Link", "<a>")
	p.Header.Add("Link", "<b>")

	w := httptest.NewRecorder()
	got := problem.Write(w, "req-1", p)
	if got != p {
		t.Errorf("Write returned %p, want the problem it wrote (%p)", got, p)
	}
	if w.Code != http.StatusConflict {
		t.Errorf("status %d, want 409", w.Code)
	}
	wantHeader := http.Header{
		"Content-Type":           {"application/problem+json"},
		"Cache-Control":          {"no-store"},
		"X-Content-Type-Options": {"nosniff"},
		"Www-Authenticate":       {`Bearer realm="linkbff"`},
		"Link":                   {"<a>", "<b>"},
	}
	if diff := cmp.Diff(wantHeader, w.Header()); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	want := api.Problem{
		Type:      "urn:linkbff:problem:identity_already_exists",
		Title:     "Identity already exists",
		Status:    http.StatusConflict,
		Detail:    ptr("This identity is already linked."),
		Code:      api.ProblemCodeIdentityAlreadyExists,
		RequestID: ptr("req-1"),
		Errors:    []api.FieldError{{Field: "link_with", Message: "already linked"}},
	}
	if diff := cmp.Diff(want, decodeBody(t, w)); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
}

func TestWriteOmitsEmptyMembers(t *testing.T) {
	w := httptest.NewRecorder()
	problem.Write(w, "", fault.New(fault.RouteNotFound, ""))
	var members map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &members); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"type": "urn:linkbff:problem:not_found", "title": "Not found", "status": 404.0, "code": "not_found"}
	if diff := cmp.Diff(want, members); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
}

func TestWriteRetryAfterRoundsUp(t *testing.T) {
	tests := []struct {
		retryAfter time.Duration
		want       []string // nil: no header
	}{
		{0, nil},
		{-time.Second, nil},
		{time.Nanosecond, []string{"1"}},
		{time.Second, []string{"1"}},
		{time.Second + time.Nanosecond, []string{"2"}},
		{2500 * time.Millisecond, []string{"3"}},
		{time.Minute, []string{"60"}},
	}
	for _, tt := range tests {
		t.Run(tt.retryAfter.String(), func(t *testing.T) {
			p := fault.New(fault.UpstreamRateLimited, "later")
			p.RetryAfter = tt.retryAfter
			w := httptest.NewRecorder()
			problem.Write(w, "", p)
			if diff := cmp.Diff(tt.want, w.Header().Values("Retry-After")); diff != "" {
				t.Errorf("Retry-After (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWritePlainErrorIsInternalWithHiddenCause(t *testing.T) {
	cause := errors.New("dial tcp 10.0.0.7:6379: secret-host refused")
	w := httptest.NewRecorder()
	got := problem.Write(w, "req-2", fmt.Errorf("storing intent: %w", cause))
	if w.Code != http.StatusInternalServerError {
		t.Errorf("status %d, want 500", w.Code)
	}
	want := api.Problem{
		Type:      "urn:linkbff:problem:internal_error",
		Title:     "Internal error",
		Status:    http.StatusInternalServerError,
		Detail:    ptr("An unexpected error occurred."),
		Code:      api.ProblemCodeInternalError,
		RequestID: ptr("req-2"),
	}
	body := w.Body.String()
	if diff := cmp.Diff(want, decodeBody(t, w)); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	if strings.Contains(body, "secret-host") || strings.Contains(body, "storing intent") {
		t.Errorf("body reveals the cause: %s", body)
	}
	if !errors.Is(got, cause) {
		t.Errorf("returned problem %v does not keep the cause (for the log)", got)
	}
}

func TestWriteFindsWrappedFault(t *testing.T) {
	for name, err := range map[string]error{
		"fault":   fault.Wrap(errors.New("hidden"), fault.InvalidLinkToken, "public"),
		"problem": problem.Wrap(errors.New("hidden"), fault.InvalidLinkToken, "public"),
	} {
		t.Run(name, func(t *testing.T) {
			w := httptest.NewRecorder()
			problem.Write(w, "", fmt.Errorf("link: %w", err))
			b := decodeBody(t, w)
			if w.Code != http.StatusBadRequest || b.Code != api.ProblemCodeInvalidLinkToken || b.Detail == nil || *b.Detail != "public" {
				t.Errorf("got %d %s %v, want 400 invalid_link_token \"public\"", w.Code, b.Code, b.Detail)
			}
			if strings.Contains(w.Body.String(), "hidden") {
				t.Errorf("body reveals the cause: %s", w.Body.String())
			}
		})
	}
}

// A client that went away is logged and counted as 499 client_closed, not as a
// server failure.
func TestWriteCancelledRequest(t *testing.T) {
	w := httptest.NewRecorder()
	p := problem.Write(w, "", fmt.Errorf("reading the user: %w", context.Canceled))
	if w.Code != problem.StatusClientClosed || p.Fault.Code != fault.ClientClosed || p.Status() != 499 {
		t.Errorf("got %d %s (Status() %d), want 499 client_closed", w.Code, p.Fault.Code, p.Status())
	}
}

// declaredCodes returns the values of every constant of type Code in package fault, so
// a code added there without a row in the table fails this test.
func declaredCodes(t *testing.T) []fault.Code {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../fault/fault.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var codes []fault.Code
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Code" {
				continue
			}
			for i, name := range vs.Names {
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("Code constant %s is not a string literal", name.Name)
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				codes = append(codes, fault.Code(v))
			}
		}
	}
	return codes
}

func TestTableCoversEveryCode(t *testing.T) {
	codes := declaredCodes(t)
	if len(codes) < 20 {
		t.Fatalf("found %d Code constants in package fault; the parser missed some", len(codes))
	}
	seen := map[fault.Code]bool{}
	for _, c := range codes {
		if seen[c] {
			t.Errorf("code %q declared twice", c)
		}
		seen[c] = true
	}
	var declared []string
	for c := range seen {
		declared = append(declared, string(c))
	}
	var tabled []string
	titles := map[string]fault.Code{}
	for _, c := range problem.Codes() {
		tabled = append(tabled, string(c))
		status, title := problem.Status(c), problem.Title(c)
		if status < 400 || status > 599 || http.StatusText(status) == "" && status != problem.StatusClientClosed {
			t.Errorf("code %q has status %d, not an error status", c, status)
		}
		if title == "" {
			t.Errorf("code %q has no title", c)
		}
		if other, dup := titles[title]; dup {
			t.Errorf("codes %q and %q share the title %q", c, other, title)
		}
		titles[title] = c
	}
	if diff := cmp.Diff(sortedStrings(declared), tabled); diff != "" {
		t.Errorf("Code constants of package fault vs rows of the table (-declared +table):\n%s", diff)
	}
}

func TestUnknownCodeIsInternal(t *testing.T) {
	w := httptest.NewRecorder()
	problem.Write(w, "", fault.New("no_such_code", "a bug"))
	if w.Code != http.StatusInternalServerError {
		t.Errorf("status %d for a code missing from the table, want 500", w.Code)
	}
}

func sortedStrings(s []string) []string {
	out := append([]string(nil), s...)
	slices.Sort(out)
	return out
}
