package identity

import "reflect"

// metadataPatch returns the top-level user_metadata keys to PATCH on the primary user
// so that it holds the secondary's metadata deep-merged under its own, the primary
// winning every conflict. Auth0 discards the secondary's metadata when linking, so
// this runs (and is written) before the link. An empty result means nothing changes.
//
// Auth0 merges PATCHed user_metadata at the top level only, so a changed nested
// object is sent whole (the primary's content plus what the secondary adds).
func metadataPatch(primary, secondary map[string]any) map[string]any {
	patch := map[string]any{}
	for k, sv := range secondary {
		if sv == nil {
			continue // a null would delete the key on the primary
		}
		pv, ok := primary[k]
		if !ok || pv == nil {
			patch[k] = sv
			continue
		}
		merged := deepMerge(pv, sv)
		if !reflect.DeepEqual(merged, pv) {
			patch[k] = merged
		}
	}
	return patch
}

// deepMerge merges s under p: objects are merged key by key, anything else keeps p.
func deepMerge(p, s any) any {
	pm, pok := p.(map[string]any)
	sm, sok := s.(map[string]any)
	if !pok || !sok {
		return p
	}
	out := make(map[string]any, len(pm)+len(sm))
	for k, v := range pm {
		out[k] = v
	}
	for k, sv := range sm {
		if sv == nil {
			continue
		}
		if pv, ok := pm[k]; ok && pv != nil {
			out[k] = deepMerge(pv, sv)
		} else {
			out[k] = sv
		}
	}
	return out
}
