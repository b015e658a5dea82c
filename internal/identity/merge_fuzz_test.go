package identity

import (
	"encoding/json"
	"maps"
	"reflect"
	"testing"
)

// FuzzMetadataPatch: for any two user_metadata objects, the patch applied to the
// primary (as Auth0 applies a PATCH: top-level keys replaced, never removed) keeps
// every value of the primary (the primary wins), brings every non-null value of the
// secondary in somewhere, and leaves nothing to patch a second time.
func FuzzMetadataPatch(f *testing.F) {
	f.Add([]byte(`{"theme":"dark"}`), []byte(`{"theme":"light","lang":"fr"}`))
	f.Add([]byte(`{"prefs":{"a":1,"b":{"c":2}}}`), []byte(`{"prefs":{"b":{"d":3},"e":null},"x":[1,2]}`))
	f.Add([]byte(`{"k":null}`), []byte(`{"k":{"deep":true}}`))
	f.Add([]byte(`{}`), []byte(`{"n":null}`))
	f.Fuzz(func(t *testing.T, p, s []byte) {
		var primary, secondary map[string]any
		if json.Unmarshal(p, &primary) != nil || json.Unmarshal(s, &secondary) != nil {
			return
		}
		before := deepCopy(primary)
		patch := metadataPatch(primary, secondary)
		if !reflect.DeepEqual(primary, before) {
			t.Fatal("metadataPatch changed its input")
		}
		for k, v := range patch {
			if v == nil {
				t.Errorf("patch sets %q to null, which would delete it", k)
			}
		}
		merged := maps.Clone(primary)
		if merged == nil {
			merged = map[string]any{}
		}
		maps.Copy(merged, patch)
		if !keeps(merged, primary) {
			t.Errorf("the merge lost or changed a value of the primary:\nprimary %v\nmerged  %v", primary, merged)
		}
		if !brings(merged, secondary) {
			t.Errorf("the merge lost a value of the secondary:\nsecondary %v\nmerged    %v", secondary, merged)
		}
		if again := metadataPatch(merged, secondary); len(again) != 0 {
			t.Errorf("patching again would change %v", again)
		}
		// What is sent survives the trip to Auth0 as JSON.
		if _, err := json.Marshal(patch); err != nil {
			t.Errorf("patch does not encode: %v", err)
		}
	})
}

// keeps reports whether every non-null value of want is in got, objects compared
// key by key (got may have more keys), anything else equal.
func keeps(got, want map[string]any) bool {
	for k, w := range want {
		if w == nil {
			continue
		}
		g, ok := got[k]
		if !ok {
			return false
		}
		wm, wok := w.(map[string]any)
		gm, gok := g.(map[string]any)
		if wok && gok {
			if !keeps(gm, wm) {
				return false
			}
			continue
		}
		if !reflect.DeepEqual(g, w) {
			return false
		}
	}
	return true
}

// brings reports whether every non-null key of the secondary is present in got, at
// every depth where both sides are objects (the primary's value stands elsewhere).
func brings(got, secondary map[string]any) bool {
	for k, s := range secondary {
		if s == nil {
			continue
		}
		g, ok := got[k]
		if !ok || g == nil {
			return false
		}
		sm, sok := s.(map[string]any)
		gm, gok := g.(map[string]any)
		if sok && gok && !brings(gm, sm) {
			return false
		}
	}
	return true
}

func deepCopy(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}
