package identity

// Micro-benchmark of the metadata merge done on every link. The service's share of the
// hot path (a warm List) is measured in list_bench_test.go, the whole request in
// cmd/linkbff/bench_test.go; see BENCHMARKS.md.

import (
	"encoding/json"
	"testing"
)

// BenchmarkMetadataPatch merges a secondary's user_metadata into a primary's, as Link
// does before every link, on metadata decoded from JSON as the mgmt client does.
func BenchmarkMetadataPatch(b *testing.B) {
	decode := func(s string) map[string]any {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			b.Fatal(err)
		}
		return m
	}
	cases := []struct{ name, primary, secondary string }{
		{"small", `{"theme":"dark","locale":"en"}`, `{"github_handle":"alice-gh","theme":"light"}`},
		{"nested", `{"theme":"dark","prefs":{"lang":"en","tz":"UTC","notify":{"email":true,"sms":false}},"tags":["a","b"],"plan":"pro"}`,
			`{"prefs":{"lang":"fr","news":true,"notify":{"push":true}},"tags":["c"],"github_handle":"alice-gh","score":42}`},
	}
	for _, c := range cases {
		p, s := decode(c.primary), decode(c.secondary)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				metadataPatch(p, s)
			}
		})
	}
}
