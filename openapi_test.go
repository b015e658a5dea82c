package linkbff

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/problem"
)

const problemMediaType = "application/problem+json"

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(OpenAPISpec())
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	// Validate also checks every example against its schema.
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi.yaml is invalid: %v", err)
	}
	return doc
}

func TestOpenAPISpecIsValid(t *testing.T) {
	doc := loadSpec(t)
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q, want 3.0.3 (oapi-codegen's best-supported version)", doc.OpenAPI)
	}
	for name, s := range doc.Components.Schemas {
		if s.Value.Example == nil {
			t.Errorf("schema %s has no example", name)
		}
	}
}

// codeRow is one row of the table of codes in ProblemCode's description.
type codeRow struct {
	Status int
	Title  string
}

var codeRowRE = regexp.MustCompile("^\\| `([a-z_]+)` \\| ([0-9]{3}) \\| ([^|]+?) \\| [^|]+ \\|$")

// problemCodes returns the enum of ProblemCode and its table, failing if the
// table lists a code twice.
func problemCodes(t *testing.T, doc *openapi3.T) ([]string, map[string]codeRow) {
	t.Helper()
	ref := doc.Components.Schemas["ProblemCode"]
	if ref == nil {
		t.Fatal("components.schemas.ProblemCode is missing")
	}
	var enum []string
	for _, v := range ref.Value.Enum {
		enum = append(enum, fmt.Sprint(v))
	}
	table := map[string]codeRow{}
	for line := range strings.SplitSeq(ref.Value.Description, "\n") {
		m := codeRowRE.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		if _, dup := table[m[1]]; dup {
			t.Errorf("ProblemCode's table lists %s more than once", m[1])
		}
		status, _ := strconv.Atoi(m[2])
		table[m[1]] = codeRow{Status: status, Title: m[3]}
	}
	return enum, table
}

// TestProblemTableMatchesSpec holds internal/problem's table (code -> status ->
// title), which decides every error response, against openapi.yaml: the
// ProblemCode enum and the table in its description list exactly the codes of
// internal/problem's table, each with its status and title; each code sent to
// clients has exactly one example in components/examples, and every example agrees
// with the table. (TestErrorResponses checks the responses that use them.)
func TestProblemTableMatchesSpec(t *testing.T) {
	doc := loadSpec(t)
	enum, specTable := problemCodes(t, doc)

	seen := map[string]bool{}
	for _, c := range enum {
		if seen[c] {
			t.Errorf("ProblemCode enum lists %s twice", c)
		}
		seen[c] = true
	}
	var tableCodes, codes []string
	for c := range specTable {
		tableCodes = append(tableCodes, c)
	}
	for _, c := range problem.Codes() {
		codes = append(codes, string(c))
	}
	if diff := cmp.Diff(sorted(codes), sorted(enum)); diff != "" {
		t.Errorf("internal/problem's codes vs the ProblemCode enum (-code +spec):\n%s", diff)
	}
	if diff := cmp.Diff(sorted(codes), sorted(tableCodes)); diff != "" {
		t.Errorf("internal/problem's codes vs the rows of ProblemCode's table (-code +spec):\n%s", diff)
	}
	for _, c := range problem.Codes() {
		want := codeRow{Status: problem.Status(c), Title: problem.Title(c)}
		if got, ok := specTable[string(c)]; ok && got != want {
			t.Errorf("code %s: openapi.yaml says %d %q, internal/problem sends %d %q", c, got.Status, got.Title, want.Status, want.Title)
		}
	}

	examples := map[string][]string{} // code -> names of component examples
	for name, ex := range doc.Components.Examples {
		p, ok := ex.Value.Value.(map[string]any)
		if !ok {
			continue
		}
		code, _ := p["code"].(string)
		if code == "" {
			continue
		}
		examples[code] = append(examples[code], name)
		if name != code {
			t.Errorf("example %s shows code %s; name it after its code", name, code)
		}
		checkProblemExample(t, "components.examples."+name, p)
	}
	for _, c := range problem.Codes() {
		want := 1
		if problem.Status(c) == problem.StatusClientClosed {
			want = 0 // never sent, so never shown
		}
		if n := len(examples[string(c)]); n != want {
			t.Errorf("code %s has %d examples in components/examples (%v), want %d", c, n, examples[string(c)], want)
		}
	}
}

// checkProblemExample checks one problem example against internal/problem's table.
func checkProblemExample(t *testing.T, where string, p map[string]any) {
	t.Helper()
	code, _ := p["code"].(string)
	c := fault.Code(code)
	if !slices.Contains(problem.Codes(), c) {
		t.Errorf("%s: code %q is not a code of internal/problem", where, code)
		return
	}
	row := codeRow{Status: problem.Status(c), Title: problem.Title(c)}
	if got, want := p["type"], "urn:linkbff:problem:"+code; got != want {
		t.Errorf("%s: type = %v, want %s", where, got, want)
	}
	if got := p["title"]; got != row.Title {
		t.Errorf("%s: title = %v, want %q", where, got, row.Title)
	}
	if got := fmt.Sprint(p["status"]); got != strconv.Itoa(row.Status) {
		t.Errorf("%s: status = %s, want %d", where, got, row.Status)
	}
}

// TestErrorResponses checks each operation's error responses: every 4xx and
// 5xx is a Problem with at least one example, each example's code has that
// HTTP status in internal/problem's table, 401s document WWW-Authenticate, 503 and
// 429 problems Retry-After, and every rate-limited operation has its 429.
func TestErrorResponses(t *testing.T) {
	doc := loadSpec(t)

	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID == "" {
				t.Errorf("%s %s has no operationId", method, path)
			}
			// Every /me operation is rate limited (internal/ratelimit).
			if strings.HasPrefix(path, "/me/") && op.Responses.Value("429") == nil {
				t.Errorf("%s %s: no 429 response, but it is rate limited", method, path)
			}
			for status, ref := range op.Responses.Map() {
				where := fmt.Sprintf("%s %s %s", method, path, status)
				code, err := strconv.Atoi(status)
				if status == "default" {
					code = 0 // any error status: checked as an error response below
				} else if err != nil {
					t.Errorf("%s: use explicit status codes or default, not %q", where, status)
					continue
				}
				resp := ref.Value
				if code > 0 && code < 400 {
					if mt := resp.Content.Get("application/json"); mt != nil && mt.Schema != nil && mt.Schema.Value.Example == nil && mt.Example == nil && len(mt.Examples) == 0 {
						t.Errorf("%s: no example", where)
					}
					continue
				}
				if path == "/readyz" && code == 503 {
					continue // readiness reports its checks, not a problem
				}
				mt := resp.Content.Get(problemMediaType)
				if mt == nil || len(resp.Content) != 1 {
					t.Errorf("%s: error responses must be %s only", where, problemMediaType)
					continue
				}
				if mt.Schema == nil || mt.Schema.Ref != "#/components/schemas/Problem" {
					t.Errorf("%s: schema must be #/components/schemas/Problem", where)
				}
				if len(mt.Examples) == 0 {
					t.Errorf("%s: no example", where)
				}
				for name, ex := range mt.Examples {
					p, _ := ex.Value.Value.(map[string]any)
					checkProblemExample(t, where+" example "+name, p)
					if got := fmt.Sprint(p["status"]); code != 0 && got != status {
						t.Errorf("%s: example %s has status %s", where, name, got)
					}
				}
				if code == 401 && resp.Headers["WWW-Authenticate"] == nil {
					t.Errorf("%s: WWW-Authenticate header not documented", where)
				}
				if (code == 503 || code == 429) && resp.Headers["Retry-After"] == nil {
					t.Errorf("%s: Retry-After header not documented", where)
				}
			}
		}
	}
}

// no4xx are the operations that answer no 4xx at all: they need no credential and
// take no input they could refuse. .redocly.lint-ignore.yaml exempts exactly these
// from Redocly's operation-4xx-response rule.
var no4xx = []string{"getClientConfig", "getHealth", "getOpenAPISpec", "getReadiness"}

// TestEveryOperationDocumentsItsAnswers holds rules that make every answer of the API
// predictable from the contract: every operation has a default problem response and
// at least one 4xx (but the few in no4xx, which the lint's ignore file names too);
// every response documents X-Request-Id, which every answer carries; and an
// operation taking a bearer token offers it in all three forms (bearerAuth, auth0,
// auth0Oidc: the same token) with the same scopes.
func TestEveryOperationDocumentsItsAnswers(t *testing.T) {
	doc := loadSpec(t)
	const requestID = "#/components/headers/XRequestId"
	var exempt []string
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			def := op.Responses.Default()
			if def == nil || def.Ref != "#/components/responses/DefaultProblem" {
				t.Errorf("%s: no default response (#/components/responses/DefaultProblem)", where)
			}
			has4xx := false
			for status, ref := range op.Responses.Map() {
				if strings.HasPrefix(status, "4") {
					has4xx = true
				}
				if h := ref.Value.Headers["X-Request-Id"]; h == nil || h.Ref != requestID {
					t.Errorf("%s %s: X-Request-Id not documented (%s)", where, status, requestID)
				}
			}
			if slices.Contains(no4xx, op.OperationID) {
				exempt = append(exempt, op.OperationID)
				if has4xx {
					t.Errorf("%s lists a 4xx: take %s out of no4xx and out of .redocly.lint-ignore.yaml", where, op.OperationID)
				}
			} else if !has4xx {
				t.Errorf("%s: no 4xx response", where)
			}
			security := doc.Security
			if op.Security != nil {
				security = *op.Security
			}
			checkBearerForms(t, where, security)
		}
	}
	if diff := cmp.Diff(sorted(no4xx), sorted(exempt)); diff != "" {
		t.Errorf("no4xx names operations the spec does not have (-no4xx +found):\n%s", diff)
	}

	// The lint's ignore file exempts the same operations, by JSON pointer.
	ignore, err := os.ReadFile(".redocly.lint-ignore.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var ignored map[string]map[string][]string
	if err := yaml.Unmarshal(ignore, &ignored); err != nil {
		t.Fatalf(".redocly.lint-ignore.yaml: %v", err)
	}
	var want []string
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if slices.Contains(no4xx, op.OperationID) {
				ptr := "#/paths/" + strings.ReplaceAll(strings.ReplaceAll(path, "~", "~0"), "/", "~1") + "/" + strings.ToLower(method) + "/responses"
				want = append(want, ptr)
			}
		}
	}
	if diff := cmp.Diff(sorted(want), sorted(ignored["openapi.yaml"]["operation-4xx-response"])); diff != "" {
		t.Errorf(".redocly.lint-ignore.yaml's operation-4xx-response list vs no4xx (-no4xx +ignore file):\n%s", diff)
	}
}

// checkBearerForms checks one operation's security requirements: the access token's
// three forms appear together, bearerAuth without scopes (an http scheme has none in
// OpenAPI 3.0), auth0 and auth0Oidc with the same scopes.
func checkBearerForms(t *testing.T, where string, security openapi3.SecurityRequirements) {
	t.Helper()
	var forms []string
	scopes := map[string][]string{}
	for _, req := range security {
		for name, s := range req {
			if len(req) != 1 {
				t.Errorf("%s: security requirement %v joins schemes; each is an alternative", where, req)
			}
			forms = append(forms, name)
			scopes[name] = s
		}
	}
	hasBearer := slices.Contains(forms, "bearerAuth")
	for _, name := range []string{"bearerAuth", "auth0", "auth0Oidc"} {
		if slices.Contains(forms, name) != hasBearer {
			t.Errorf("%s: security %v: bearerAuth, auth0 and auth0Oidc go together", where, forms)
			return
		}
	}
	if len(scopes["bearerAuth"]) != 0 {
		t.Errorf("%s: bearerAuth lists scopes %v; list them on auth0 and auth0Oidc", where, scopes["bearerAuth"])
	}
	if !slices.Equal(scopes["auth0"], scopes["auth0Oidc"]) {
		t.Errorf("%s: auth0 needs %v, auth0Oidc %v: the same token needs the same scopes", where, scopes["auth0"], scopes["auth0Oidc"])
	}
}

// TestOpenAPISpecFor checks the document GET /openapi.yaml serves: valid, with the
// tenant's URLs where a client obtains a token, and no placeholder URL left.
func TestOpenAPISpecFor(t *testing.T) {
	const tenant = "https://example.eu.auth0.com"
	served := OpenAPISpecFor(tenant)
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(served)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("the served document is invalid: %v", err)
	}
	code := doc.Components.SecuritySchemes["auth0"].Value.Flows.AuthorizationCode
	oidc := doc.Components.SecuritySchemes["auth0Oidc"].Value.OpenIdConnectUrl
	got := []string{code.AuthorizationURL, code.TokenURL, oidc}
	want := []string{tenant + "/authorize", tenant + "/oauth/token", tenant + "/.well-known/openid-configuration"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("token URLs of the served document (-want +got):\n%s", diff)
	}
	if bytes.Contains(served, []byte(TenantPlaceholder)) {
		t.Errorf("the served document still holds %s", TenantPlaceholder)
	}
	if !bytes.Contains(OpenAPISpec(), []byte(TenantPlaceholder+"/authorize")) {
		t.Errorf("openapi.yaml no longer names the placeholder tenant %s", TenantPlaceholder)
	}
}

func TestOpenAPISpecReturnsACopy(t *testing.T) {
	a := OpenAPISpec()
	a[0] = 'X'
	if b := OpenAPISpec(); b[0] == 'X' {
		t.Fatal("OpenAPISpec returned shared memory")
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}
