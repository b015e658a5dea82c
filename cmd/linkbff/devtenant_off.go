//go:build nodevtenant

package main

import (
	"errors"

	"github.com/linkbff/linkbff/internal/config"
)

// startDevTenant refuses: this binary was built without the development tenant
// (-tags nodevtenant, as the container image is), so it only serves a real tenant.
func startDevTenant(*config.Config) (devMode, error) {
	return nil, errors.New("AUTH0_DOMAIN is unset, and this linkbff was built without the development tenant (-tags nodevtenant): " +
		"set AUTH0_DOMAIN, AUTH0_AUDIENCE, AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET for your Auth0 tenant (see docs/auth0-setup.md)")
}
