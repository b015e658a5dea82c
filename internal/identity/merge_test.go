package identity

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMetadataPatch(t *testing.T) {
	tests := []struct {
		name               string
		primary, secondary map[string]any
		want               map[string]any
	}{
		{"nothing to merge", map[string]any{"a": 1.0}, nil, map[string]any{}},
		{"new key added", map[string]any{"a": 1.0}, map[string]any{"b": 2.0}, map[string]any{"b": 2.0}},
		{"primary wins on scalar conflict", map[string]any{"theme": "dark"}, map[string]any{"theme": "light"}, map[string]any{}},
		{"primary wins on type conflict", map[string]any{"x": "s"}, map[string]any{"x": map[string]any{"k": 1.0}}, map[string]any{}},
		{
			"nested objects merged, sent whole",
			map[string]any{"prefs": map[string]any{"lang": "en", "tz": "UTC"}},
			map[string]any{"prefs": map[string]any{"lang": "fr", "news": true}},
			map[string]any{"prefs": map[string]any{"lang": "en", "tz": "UTC", "news": true}},
		},
		{
			"nested object already contains everything",
			map[string]any{"prefs": map[string]any{"lang": "en", "news": true}},
			map[string]any{"prefs": map[string]any{"news": false}},
			map[string]any{},
		},
		{"null on secondary ignored", map[string]any{"a": 1.0}, map[string]any{"a": nil, "b": nil}, map[string]any{}},
		{"null on primary replaced", map[string]any{"a": nil}, map[string]any{"a": 2.0}, map[string]any{"a": 2.0}},
		{"arrays are values: primary wins", map[string]any{"tags": []any{"x"}}, map[string]any{"tags": []any{"y"}}, map[string]any{}},
		{"empty primary takes all", map[string]any{}, map[string]any{"a": []any{"y"}, "b": map[string]any{"c": 1.0}}, map[string]any{"a": []any{"y"}, "b": map[string]any{"c": 1.0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := metadataPatch(tt.primary, tt.secondary)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("metadataPatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMetadataPatchDoesNotMutateInputs(t *testing.T) {
	primary := map[string]any{"prefs": map[string]any{"lang": "en"}}
	secondary := map[string]any{"prefs": map[string]any{"news": true}}
	metadataPatch(primary, secondary)
	if diff := cmp.Diff(map[string]any{"prefs": map[string]any{"lang": "en"}}, primary); diff != "" {
		t.Errorf("primary mutated (-want +got):\n%s", diff)
	}
}
