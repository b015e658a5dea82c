package auth_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/linkbff/linkbff/internal/testkit"
)

// rsaKeys are generated once per test binary: 2048-bit generation is slow enough to
// matter when every subtest wants a key.
var rsaKeys = sync.OnceValue(func() [2]*rsa.PrivateKey {
	var ks [2]*rsa.PrivateKey
	for i := range ks {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		ks[i] = k
	}
	return ks
})

// tenantKey is the key the fake tenant publishes; foreignKey is one it never does.
func tenantKey() *rsa.PrivateKey  { return rsaKeys()[0] }
func foreignKey() *rsa.PrivateKey { return rsaKeys()[1] }

func publicJWK(k *rsa.PrivateKey, kid string) jose.JSONWebKey {
	return jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: string(jose.RS256), Use: "sig"}
}

// jwksServer is a fake tenant serving {issuer}.well-known/jwks.json. It counts the
// JWKS requests and can be told to fail. Client() answers within testkit.Timeout;
// inProcessClient() reaches the same handler without a network, for synctest.
type jwksServer struct {
	*httptest.Server
	requests atomic.Int64

	mu      sync.Mutex
	keys    []jose.JSONWebKey
	failure string // "" (serve the keys), "html" (503 with a page), "json" (503 with a JSON error)
}

func newJWKSServer(t *testing.T, keys ...jose.JSONWebKey) *jwksServer {
	t.Helper()
	s := &jwksServer{keys: keys}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/jwks.json" {
			http.NotFound(w, r)
			return
		}
		s.requests.Add(1)
		s.mu.Lock()
		keys, failure := s.keys, s.failure
		s.mu.Unlock()
		switch failure {
		case "html":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("<html><body>Service Unavailable</body></html>"))
		case "json":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"statusCode":503,"error":"Service Unavailable","message":"try later"}`))
		default:
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: keys})
		}
	}))
	t.Cleanup(s.Close)
	s.Client().Timeout = testkit.Timeout
	return s
}

// inProcessClient returns a client that hands every request straight to the fake
// tenant's handler, whatever its URL: no connection, so in a synctest bubble a
// request is just a function call and synctest.Wait can wait for it. (A network
// server's goroutines are never durably blocked, so a bubble could not wait on them.)
func (s *jwksServer) inProcessClient() *http.Client {
	return &http.Client{Transport: handlerTransport{s.Config.Handler}}
}

type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

func (s *jwksServer) issuer() string { return s.URL + "/" }

func (s *jwksServer) setKeys(keys ...jose.JSONWebKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = keys
}

func (s *jwksServer) setFailure(mode string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failure = mode
}

// unsigned returns an "alg":"none" token, which no go-jose signer produces.
func unsigned(t *testing.T, kid string, claims map[string]any) string {
	t.Helper()
	b64 := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return b64(map[string]string{"alg": "none", "typ": "JWT", "kid": kid}) + "." + b64(claims) + "."
}
