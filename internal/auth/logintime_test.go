package auth_test

import (
	"encoding/base64"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/auth"
)

func TestLoginTime(t *testing.T) {
	bearer := func(payload string) string {
		return "Bearer e30." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".c2ln"
	}
	for _, tt := range []struct {
		name, header, claim string
		want                time.Time
		present, err        bool
	}{
		{"auth_time", bearer(`{"auth_time":1750000000}`), "auth_time", time.Unix(1750000000, 0), true, false},
		{"a fraction of a second", bearer(`{"auth_time":1750000000.9}`), "auth_time", time.Unix(1750000000, 0), true, false},
		{"a namespaced claim", bearer(`{"auth_time":1,"https://x.example/auth_time":1750000000}`), "https://x.example/auth_time", time.Unix(1750000000, 0), true, false},
		{"absent", bearer(`{"sub":"auth0|a"}`), "auth_time", time.Time{}, false, false},
		{"a string", bearer(`{"auth_time":"2025-06-15T00:00:00Z"}`), "auth_time", time.Time{}, true, true},
		{"negative", bearer(`{"auth_time":-5}`), "auth_time", time.Time{}, true, true},
		{"lower-case scheme", "bearer e30." + base64.RawURLEncoding.EncodeToString([]byte(`{"auth_time":7}`)) + ".c2ln", "auth_time", time.Unix(7, 0), true, false},
		{"no bearer token", "Basic dXNlcjpwYXNz", "auth_time", time.Time{}, false, true},
		{"not a JWS", "Bearer abc", "auth_time", time.Time{}, false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/me/identities", nil)
			r.Header.Set("Authorization", tt.header)
			got, present, err := auth.LoginTime(r, tt.claim)
			if !got.Equal(tt.want) || present != tt.present || (err != nil) != tt.err {
				t.Errorf("LoginTime = %v, %v, %v; want %v, %v, error %v", got, present, err, tt.want, tt.present, tt.err)
			}
		})
	}
}
