package server_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// A method outside the standard set is counted as "OTHER": Go accepts any token as a
// method, and a label per made-up method would let a client grow the series without
// bound.
func TestMetricsLabelUnknownMethodsOther(t *testing.T) {
	s := newTestServer(t, serverOptions{})
	for _, m := range []string{"BREW", "X0", "X1"} {
		s.do(t, m, "/me/identities", nil, nil)
	}
	s.do(t, http.MethodGet, "/healthz", nil, nil)
	body := string(s.do(t, http.MethodGet, "/metrics", nil, nil).body)
	if !regexp.MustCompile(`(?m)^linkbff_http_requests_total\{method="OTHER",route="[^"]*",status="405"\} 3$`).MatchString(body) {
		t.Errorf("no method=\"OTHER\" series counting the 3 requests:\n%s", body)
	}
	if !strings.Contains(body, `linkbff_http_requests_total{method="GET",route="/healthz",status="200"} 1`) {
		t.Errorf("no method=\"GET\" series for /healthz:\n%s", body)
	}
	for _, m := range []string{"BREW", "X0", "X1"} {
		if strings.Contains(body, `method="`+m+`"`) {
			t.Errorf("a series is labelled method=%q:\n%s", m, body)
		}
	}
}
