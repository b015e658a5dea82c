package webauth

// NewMemoryRegistry exposes the default registry to the conformance suite.
var NewMemoryRegistry = newMemoryRegistry

// CookieName is the session cookie's name (with the __Host- prefix when BaseURL is https).
func (w *Web) CookieName() string { return w.sessions.Cookie.Name }
