package devtenant_test

import (
	"os"
	"testing"
)

// missingPrerequisite skips t, which needs something besides Go that is not there
// (Chromium, Node.js, npm packages), or fails it in CI (CI=true), where no test may
// be skipped. The message says how to get what is missing.
func missingPrerequisite(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format+" (CI=true: this test must not be skipped)", args...)
	}
	t.Skipf(format, args...)
}
