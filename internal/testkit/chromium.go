package testkit

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is Debian's Chromium, which `make test` installs when it is missing.
const ChromiumPath = "/usr/bin/chromium"

// MissingPrerequisite skips t, which needs something besides Go that is not there
// (Redis, Chromium, Node.js, npm packages), or fails it under CI=true, where no test
// may be skipped. The message says how to get what is missing.
func MissingPrerequisite(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format+" (CI=true: this test must not be skipped)", args...)
	}
	t.Skipf(format, args...)
}

// Chromium starts a headless Chromium (ChromiumPath) with a fresh profile and returns
// the chromedp context of its first tab. Contexts made from it with
// chromedp.NewContext are further tabs of the same browser (with
// chromedp.WithNewBrowserContext, tabs with their own cookies and storage).
//
// The browser lives at most lifetime, which bounds every chromedp call made with it
// or a context made from it, starting the browser included, and ends with the test.
// Without Chromium the test is skipped (MissingPrerequisite).
func Chromium(t testing.TB, lifetime time.Duration) context.Context {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		MissingPrerequisite(t, "%s is missing; make test installs Debian's chromium package (as root), or run apt-get install chromium", ChromiumPath)
	}
	// The flags that work as root in a container; no background traffic, so that
	// every request a test sees comes from its page.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(ChromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	life, endLife := context.WithTimeout(context.Background(), lifetime)
	t.Cleanup(endLife)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(life, opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	// The first run starts the browser. It gets no timeout of its own, as that would
	// end the browser with it (chromedp.Run's documentation): lifetime bounds it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", ChromiumPath, err)
	}
	return ctx
}
