package webauth

// NewMemoryRegistry exposes the default registry to the conformance suite.
var NewMemoryRegistry = newMemoryRegistry
