package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/linkbff/linkbff/internal/devtenant"
	"github.com/linkbff/linkbff/internal/devtenant/devtenanttest"
	"github.com/linkbff/linkbff/internal/server"
	"github.com/linkbff/linkbff/internal/testkit"
)

const (
	// screenshotDir receives a screenshot of each state the page test reaches; it is
	// ignored by git. docs/page.png is a copy of its link_and_unlink-07-760px.png.
	screenshotDir = "testdata/screenshots"
	// pageStepTimeout bounds each step of the page test: a click and what it leads
	// to, such as a login through the tenant and back.
	pageStepTimeout = 20 * time.Second
	// pageBrowserLifetime bounds the whole browser test (about 40 seconds alone, a
	// minute under -race).
	pageBrowserLifetime = 3 * time.Minute
)

// Demo users of the development tenant's seed.
const (
	githubAlice    = "github|4242" // Alice's GitHub account, verified email
	githubMallory  = "github|9001" // a GitHub account whose email is not verified
	aliceEmail     = "alice@example.com"
	alicePassword  = "alice-password"
	lockGitHubLink = `.auth0-lock-social-button[data-provider="github"]`
)

// TestPageInChromium runs the page in headless Chromium against linkbff in
// development mode, started by run as `make run` starts it (with the embedded
// development tenant, on free ports), so the browser runs under the policy make run
// serves. A person logs in through the tenant's login page, links a GitHub account
// with Lock (whose bundle must arrive gzipped), sees it after a reload, unlinks it
// after confirming, and logs out; on the way, the page's every answer to a failed
// login, a closed login window, an account already linked and one whose email is not
// verified. A second linkbff, whose nonces expire at once (LINK_NONCE_TTL=1ns),
// shows the answer to an expired nonce. Others take the paths of
// page_paths_chromium_test.go: a suggested account (GitHub, and
// the other way round a database account, whose Lock has the email filled in), and a
// link and an unlink that need a fresh login first.
//
// Throughout, no Auth0 token may be in either origin's localStorage or
// sessionStorage or in a cookie a script can read, no request may leave 127.0.0.1,
// and the console may show no Content-Security-Policy violation, no uncaught
// exception and no error other than the 4xx answers of linkbff's API that the error
// paths provoke. Each state is saved as a screenshot in testdata/screenshots.
func TestPageInChromium(t *testing.T) {
	chromium := testkit.Chromium(t, pageBrowserLifetime)
	shots := screenshots(t)

	t.Run("link and unlink", func(t *testing.T) {
		base := startDevRun(t, nil)
		p := openPage(t, chromium, base, shots)
		p.openSignedOut()
		p.checkPolicy()
		p.screenshot("signed-out")

		p.loginErrors()

		p.login()
		p.wantIdentities("after login", "auth0|alice")
		p.screenshot("signed-in")

		p.click("open Lock", "#link-account")
		p.waitLock()
		p.screenshot("lock")
		p.mu.Lock()
		if len(p.lockGzip) == 0 || p.lockGzip[0] != "gzip" {
			t.Errorf("Lock's bundle came with Content-Encoding %q, want gzip", p.lockGzip)
		}
		p.mu.Unlock()
		p.click("close Lock", ".auth0-lock-close-button")
		p.waitStatus("lock_closed")
		p.wantIdentities("after closing Lock", "auth0|alice")

		p.linkWithLock(githubAlice)
		p.waitStatus("linked")
		p.wantIdentities("after linking", "auth0|alice", githubAlice)
		p.screenshot("linked")
		p.narrowScreens()

		p.do("reload", chromedp.Reload())
		p.wantIdentities("after a reload", "auth0|alice", githubAlice)

		p.linkWithLock(githubAlice)
		p.waitStatus("already_linked")
		p.wantIdentities("after linking an identity of the account again", "auth0|alice", githubAlice)
		p.screenshot("already-linked")

		p.linkWithLock(githubMallory)
		p.waitStatus("email_not_verified")
		p.wantIdentities("after linking an account whose email is not verified", "auth0|alice", githubAlice)
		p.screenshot("email-not-verified")

		unlink := `#identities li[data-user-id="4242"] .unlink`
		p.click("ask to unlink GitHub", unlink)
		p.waitFor("the confirmation", "#unlink-dialog[open]")
		p.screenshot("unlink-confirm")
		p.click("keep it", "#unlink-cancel")
		p.do("the confirmation to close", chromedp.WaitNotVisible(chromedp.CSS("#unlink-dialog")))
		p.wantIdentities("after keeping it", "auth0|alice", githubAlice)
		p.click("ask to unlink GitHub again", unlink)
		p.click("confirm", "#unlink-confirm")
		p.waitStatus("unlinked")
		p.wantIdentities("after unlinking", "auth0|alice")
		p.screenshot("unlinked")

		p.click("log out", "#logout")
		p.waitFor("the signed-out view after logout", `#main[data-state="signed-out"]`)
		if s := p.session(); s.Authenticated {
			t.Errorf("after logout /auth/session says %+v", s)
		}
		if loc := p.location(); loc != base+"/" {
			t.Errorf("after logout the page is at %s, want %s/", loc, base)
		}
		p.screenshot("logged-out")
		p.finish()
	})

	t.Run("expired nonce", func(t *testing.T) {
		// The nonce the page asks for before it opens Lock is expired by the time the
		// other account's login comes back with it.
		base := startDevRun(t, map[string]string{"LINK_NONCE_TTL": "1ns"})
		p := openPage(t, chromium, base, shots)
		p.openSignedOut()
		p.login()
		p.wantIdentities("after login", "auth0|alice")
		p.linkWithLock(githubAlice)
		p.waitStatus("nonce_mismatch")
		p.wantIdentities("after a link with an expired nonce", "auth0|alice")
		p.screenshot("nonce-expired")
		p.finish()
	})

	t.Run("suggested account", func(t *testing.T) { testSuggestedAccount(t, chromium, shots) })
	t.Run("suggested database account", func(t *testing.T) { testSuggestedDatabaseAccount(t, chromium, shots) })
	t.Run("fresh login", func(t *testing.T) { testFreshLogin(t, chromium, shots) })
}

// screenshots empties the screenshot directory and returns it.
func screenshots(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(screenshotDir)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots: %s", dir)
	return dir
}

// pageTab is a browser tab on the page, with its own cookies and storage, and what it
// saw: every request, and the console messages that fail the test.
type pageTab struct {
	t      *testing.T
	ctx    context.Context
	base   string // linkbff's origin
	tenant string // the development tenant's origin
	shots  string
	shot   int // screenshots taken, for their order
	// checked lists the origin of each document whose storage checkNoTokens read.
	checked []string

	mu       sync.Mutex
	requests []string
	console  []string // every message, for a failure's log
	problems []string // what fails the test: requests elsewhere, violations, errors
	policy   []string // the Content-Security-Policy of each of linkbff's documents
	lockGzip []string // the Content-Encoding of each response for Lock's bundle
}

// cspReporter reports every securitypolicyviolation event of every document the tab
// loads to the Go function cspBinding. Chromium runs it before the document's own
// scripts, and outside its Content-Security-Policy.
const (
	cspBinding  = "linkbffTestReportCSPViolation"
	cspReporter = `addEventListener('securitypolicyviolation', (e) => {
  window.` + cspBinding + `({directive: e.effectiveDirective, blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber, sample: e.sample});
}, true);`
)

type cspViolation struct {
	Directive string `json:"directive"`
	Blocked   string `json:"blocked"`
	Source    string `json:"source"`
	Line      int    `json:"line"`
	Sample    string `json:"sample"`
}

// openPage opens a tab, in a browser context of its own, that records what it sees.
func openPage(t *testing.T, chromium context.Context, base, shots string) *pageTab {
	t.Helper()
	p := &pageTab{t: t, base: base, tenant: getPageConfig(t, base).Domain, shots: shots}
	// Each tab has cookies of its own: linkbff's session cookie is per host, not port.
	ctx, cancel := chromedp.NewContext(chromium, chromedp.WithNewBrowserContext(), chromedp.WithListener(p.observe))
	t.Cleanup(cancel)
	p.ctx = ctx
	// The first run opens the tab. It runs without a timeout of its own, which would
	// close the tab with it: the browser's lifetime bounds it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			p.debug()
		}
	})
	p.do("a desktop screen", desktop)
	p.do("report Content-Security-Policy violations",
		chromedp.ExposeFunc(cspBinding, func(_ context.Context, v cspViolation) (chromedp.Void, error) {
			p.fail("Content-Security-Policy violation: %s blocked %q at %s:%d %q", v.Directive, v.Blocked, v.Source, v.Line, v.Sample)
			return chromedp.Void{}, nil
		}),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspReporter})
			return err
		}),
	)
	return p
}

// observe runs in the tab's event loop for each of its events: it records and returns.
func (p *pageTab) observe(ev any) {
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		u, err := url.Parse(ev.Request.URL)
		p.mu.Lock()
		p.requests = append(p.requests, ev.Request.Method+" "+ev.Request.URL)
		p.mu.Unlock()
		switch {
		case err != nil:
			p.fail("request to an unparsable URL %q", ev.Request.URL)
		case u.Scheme == "data" || u.Scheme == "blob":
		case u.Hostname() != "127.0.0.1":
			p.fail("the browser requested %s: nothing but linkbff and its tenant on 127.0.0.1 may be contacted", ev.Request.URL)
		}
	case *network.EventResponseReceived:
		if ev.Type == network.ResourceTypeDocument && strings.HasPrefix(ev.Response.URL, p.base+"/") {
			csp, _ := ev.Response.Headers["Content-Security-Policy"].(string)
			p.mu.Lock()
			p.policy = append(p.policy, csp)
			p.mu.Unlock()
		}
		if ev.Response.URL == p.base+"/vendor/auth0-lock.js" {
			enc, _ := ev.Response.Headers["Content-Encoding"].(string)
			p.mu.Lock()
			p.lockGzip = append(p.lockGzip, enc)
			p.mu.Unlock()
		}
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil {
			first, _, _ := strings.Cut(d.Exception.Description, "\n") // without the stack
			text += " " + first
		}
		p.fail("uncaught exception at %s:%d: %s", d.URL, d.LineNumber+1, text)
	case *runtime.EventConsoleAPICalled:
		var args []string
		for _, a := range ev.Args {
			if a.Description != "" {
				args = append(args, a.Description)
			} else {
				args = append(args, string(a.Value))
			}
		}
		msg := fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " "))
		p.record(msg)
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			p.fail("%s", msg)
		}
	case *log.EventEntryAdded:
		e := ev.Entry
		msg := fmt.Sprintf("log %s %s %s: %s", e.Level, e.Source, e.URL, e.Text)
		p.record(msg)
		switch {
		case strings.Contains(e.Text, "Content Security Policy") || e.Source == log.EntrySourceSecurity:
			p.fail("%s", msg)
		case e.Level != log.EntryLevelError:
		case p.expectedNoise(e):
		default:
			p.fail("%s", msg)
		}
	}
}

// httpStatus4xx is how Chromium logs a response with a client error status.
var httpStatus4xx = regexp.MustCompile(`the server responded with a status of 4\d\d\b`)

// expectedNoise tells the console errors the test provokes from the others: the
// browser logs every 4xx answer, and the error paths get them from linkbff's API.
// The favicon is the browser's own request.
func (p *pageTab) expectedNoise(e *log.Entry) bool {
	if e.Source != log.EntrySourceNetwork || !httpStatus4xx.MatchString(e.Text) {
		return false
	}
	return strings.HasPrefix(e.URL, p.base+"/me/") || strings.HasSuffix(e.URL, "/favicon.ico")
}

func (p *pageTab) record(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.console = append(p.console, msg)
}

// fail records a problem; the test fails with it at the next check.
func (p *pageTab) fail(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.problems = append(p.problems, fmt.Sprintf(format, args...))
}

// check fails the test with the problems seen so far.
func (p *pageTab) check(step string) {
	p.t.Helper()
	p.mu.Lock()
	problems := slices.Clone(p.problems)
	p.problems = nil
	p.mu.Unlock()
	for _, pr := range problems {
		p.t.Errorf("%s: %s", step, pr)
	}
}

// checkNoTokens fails the test when a cookie of linkbff or the tenant that is not
// HttpOnly, or an item of the current document's localStorage or sessionStorage,
// holds an Auth0 token: a JWT, or an access, ID or refresh token by name. The test
// calls it on linkbff's page and on the tenant's pages.
func (p *pageTab) checkNoTokens(state string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, pageStepTimeout)
	defer cancel()
	cookies, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{p.base + "/", p.tenant + "/"}})
	if err != nil {
		p.t.Fatalf("%s: read the cookies: %v", state, err)
	}
	for _, c := range cookies.Cookies {
		if c.HTTPOnly {
			continue
		}
		if what, found := findToken(c.Name + "=" + c.Value); found {
			p.t.Errorf("%s: the cookie %s (domain %s), which scripts can read, holds %s", state, c.Name, c.Domain, what)
		}
	}
	type item struct{ Storage, Key, Value string }
	storage := eval[struct {
		Origin string `json:"origin"`
		Items  []item `json:"items"`
	}](p, "the storage", `(() => {
		const items = [];
		for (const [name, s] of [['localStorage', localStorage], ['sessionStorage', sessionStorage]]) {
			for (let i = 0; i < s.length; i++) {
				items.push({Storage: name, Key: s.key(i), Value: s.getItem(s.key(i))});
			}
		}
		return {origin: location.origin, items};
	})()`)
	for _, it := range storage.Items {
		if what, found := findToken(it.Key + "=" + it.Value); found {
			p.t.Errorf("%s: the %s of %s holds %s in %q", state, it.Storage, storage.Origin, what, it.Key)
		}
	}
	p.checked = append(p.checked, storage.Origin)
}

var (
	// jwtLike finds the compact serialization of a JWS or JWE; findToken then checks
	// that its header decodes.
	jwtLike = regexp.MustCompile(`[A-Za-z0-9_-]{8,}(?:\.[A-Za-z0-9_-]*){2,4}`)
	// namedToken finds an OAuth token by its parameter or member name, with a value.
	namedToken = regexp.MustCompile(`(?i)\b(access|id|refresh)_token["']?\s*[:=]\s*["']?[^"'&;,\s}]+`)
)

// findToken reports whether s, or s URL-decoded, holds something that parses as a JWT
// or an OAuth token by name, and which.
func findToken(s string) (string, bool) {
	candidates := []string{s}
	if d, err := url.QueryUnescape(s); err == nil && d != s {
		candidates = append(candidates, d)
	}
	for _, c := range candidates {
		if m := namedToken.FindString(c); m != "" {
			return fmt.Sprintf("a token by name (%.40s…)", m), true
		}
		for _, m := range jwtLike.FindAllString(c, -1) {
			// The header is a JSON object, so its base64url starts with "ey"; the match
			// may have picked up characters before it.
			head, _, _ := strings.Cut(m, ".")
			for i := range len(head) - 1 {
				if !strings.HasPrefix(head[i:], "ey") {
					continue
				}
				header, err := base64.RawURLEncoding.DecodeString(head[i:])
				var h map[string]any
				if err == nil && json.Unmarshal(header, &h) == nil && h["alg"] != nil {
					return fmt.Sprintf("a JWT (%.20s…)", m[i:]), true
				}
			}
		}
	}
	return "", false
}

// checkPolicy checks that every document of linkbff came with the
// Content-Security-Policy that server.ContentSecurityPolicy builds from the settings
// /config.json reports: the one `make run` serves.
func (p *pageTab) checkPolicy() {
	p.t.Helper()
	c := getPageConfig(p.t, p.base)
	want := server.ContentSecurityPolicy(server.ClientConfig{Domain: c.Domain, ConfigurationBaseURL: c.ConfigurationBaseURL})
	p.mu.Lock()
	got := slices.Clone(p.policy)
	p.mu.Unlock()
	if len(got) == 0 {
		p.t.Fatal("the browser loaded no document from linkbff")
	}
	for _, csp := range got {
		if csp != want {
			p.t.Errorf("the browser ran the page under\n%s\nwant\n%s", csp, want)
		}
	}
}

// do runs actions as one step, within pageStepTimeout, then checks.
func (p *pageTab) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, pageStepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v", step, err)
	}
	p.check(step)
}

func (p *pageTab) goTo(step, u string) { p.t.Helper(); p.do(step, chromedp.Navigate(u)) }

// waitFor waits until an element matches selector, across navigations.
func (p *pageTab) waitFor(what, selector string) {
	p.t.Helper()
	p.do("wait for "+what, chromedp.WaitReady(chromedp.CSS(selector)))
	p.checkNoTokens(what)
}

// click clicks the visible element selector.
func (p *pageTab) click(step, selector string) {
	p.t.Helper()
	p.do(step, chromedp.WaitVisible(chromedp.CSS(selector)), chromedp.Click(chromedp.CSS(selector)))
}

// waitStatus waits for the status area to report code.
func (p *pageTab) waitStatus(code string) {
	p.t.Helper()
	p.waitFor("the status "+code, `#status[data-code="`+code+`"]`)
	text := eval[string](p, "the status text", `document.getElementById('status').textContent`)
	if strings.TrimSpace(text) == "" || regexp.MustCompile(`\b[1-5]\d\d\b`).MatchString(text) {
		p.t.Errorf("status %s says %q: want words, no bare status code", code, text)
	}
	p.t.Logf("status %s: %s", code, text)
}

func eval[T any](p *pageTab, what, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, pageStepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("read %s: %v", what, err)
	}
	return v
}

// wantIdentities waits for the list of linked accounts and checks that it shows
// exactly ids (provider|user_id), the first as primary.
func (p *pageTab) wantIdentities(when string, ids ...string) {
	p.t.Helper()
	p.waitFor("the list of linked accounts "+when, `#main[data-state="signed-in"] #identities[data-state="ready"]`)
	type row struct {
		ID      string `json:"id"`
		Primary bool   `json:"primary"`
		Unlink  bool   `json:"unlink"`
		Text    string `json:"text"`
	}
	rows := eval[[]row](p, "the linked accounts", `[...document.querySelectorAll('#identities li.identity')].map((li) => ({
		id: li.dataset.provider + '|' + li.dataset.userId,
		primary: li.dataset.primary === 'true',
		unlink: !!li.querySelector('.unlink'),
		text: li.innerText,
	}))`)
	var got []string
	for i, r := range rows {
		got = append(got, r.ID)
		if primary := i == 0; r.Primary != primary || r.Unlink == primary {
			p.t.Errorf("%s: %s has primary=%v and an Unlink button=%v", when, r.ID, r.Primary, r.Unlink)
		}
	}
	if !slices.Equal(got, ids) {
		p.t.Fatalf("%s: the page lists %v, want %v", when, got, ids)
	}
}

// login logs in as Alice from the signed-out view, through the tenant's login page.
func (p *pageTab) login() {
	p.t.Helper()
	p.click("log in", "#login")
	p.waitFor("the tenant's login page", `#database-login input[name="email"]`)
	p.submitLogin()
	p.waitFor("the signed-in view", `#main[data-state="signed-in"]`)
	if name := eval[string](p, "the user's name", `document.getElementById('user-name').textContent`); name != "Alice Example" {
		p.t.Errorf("the page names the user %q, want Alice Example", name)
	}
	// The seed's picture is a data: URL, which the policy allows.
	p.do("wait for the user's picture", chromedp.Poll[chromedp.Void](`(() => {
		const img = document.getElementById('user-picture');
		return !img.hidden && img.complete && img.naturalWidth > 0;
	})()`))
	if pic := eval[string](p, "the user's picture", `document.getElementById('user-picture').src`); pic != devtenanttest.DemoPicture(p.t, "auth0|alice") {
		p.t.Errorf("the page shows the picture %.60q, want the seed's", pic)
	}
}

// submitLogin logs in as Alice with the form of the tenant's login page, which the
// tab shows.
func (p *pageTab) submitLogin() {
	p.t.Helper()
	p.do("log in as Alice on the tenant's login page",
		chromedp.SetValue(chromedp.CSS(`#database-login input[name="email"]`), aliceEmail),
		chromedp.SetValue(chromedp.CSS(`#database-login input[name="password"]`), alicePassword),
		chromedp.Click(chromedp.CSS(`#database-login button[type="submit"]`)),
	)
}

// waitLock waits until the page has opened Lock and its widget has settled.
func (p *pageTab) waitLock() {
	p.t.Helper()
	p.waitStatus("lock_open")
	p.do("wait for Lock's GitHub button", chromedp.WaitVisible(chromedp.CSS(lockGitHubLink)), lockSettled)
}

// desktop is the screen the test runs Lock at: wider than 480px, where Lock shows
// its buttons once.
var desktop = chromedp.EmulateViewport(1280, 800)

// lockSettled waits until Lock's widget is open, nothing moves or fades its GitHub
// button any more, and nothing covers the button (Lock's loading pane fades out over
// it): a click before that can miss the button.
var lockSettled = lockSettledAt(lockGitHubLink)

// lockSettledAt is lockSettled for another element of Lock's, selector.
func lockSettledAt(selector string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Poll[bool](`(() => {
		const button = document.querySelector('`+selector+`');
		if (!button || !document.querySelector('.auth0-lock.auth0-lock-opened')) {
			return false;
		}
		const r = button.getBoundingClientRect();
		return button.contains(document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2)) &&
			document.getAnimations().every((a) => a.playState !== 'running' || !a.effect?.target?.contains(button));
	})()`)(ctx, t)
		return err
	})
}

// openSignedOut opens the page at its base and waits for the signed-out view.
func (p *pageTab) openSignedOut() {
	p.t.Helper()
	p.goTo("open the page", p.base+"/")
	p.waitFor("the signed-out view", `#main[data-state="signed-out"]`)
}

// chooseGitHubUser picks user on the tenant's GitHub page, which a login with
// GitHub opens.
func (p *pageTab) chooseGitHubUser(user string) {
	p.t.Helper()
	p.waitFor("the tenant's GitHub page", `#social-login[data-connection="github"]`)
	p.click("choose "+user+" on the tenant's GitHub page", `button[data-user-id="`+user+`"]`)
}

// linkWithLock links the GitHub account user the way a person does: Link another
// account, Lock's GitHub button, the account on the tenant's page standing in for
// GitHub. It returns once the page is back from the login; the caller waits for the
// outcome.
func (p *pageTab) linkWithLock(user string) {
	p.t.Helper()
	p.click("Link another account", "#link-account")
	p.waitLock()
	p.click("Lock's GitHub button", lockGitHubLink)
	p.chooseGitHubUser(user)
}

// loginErrors checks that every code linkbff's callback can send the page to
// /?login_error= with is put in words, and that the page removes it from the URL.
func (p *pageTab) loginErrors() {
	p.t.Helper()
	// A callback with a state no login of this browser has: the real redirect.
	p.goTo("a callback for no pending login", p.base+"/auth/callback?state=forged&code=x")
	p.waitStatus("login_invalid_state")
	if loc := p.location(); loc != p.base+"/" {
		p.t.Errorf("after a failed login the page is at %s, want %s/ (the code removed)", loc, p.base)
	}
	p.screenshot("login-error")

	// Every other code webauth's callback sends, and Auth0's /authorize errors that it
	// passes on, as the page's messages module words them.
	codes := []string{"invalid_state", "invalid_id_token", "login_failed", "access_denied", "unauthorized",
		"login_required", "interaction_required", "consent_required", "server_error", "temporarily_unavailable",
		"invalid_request", "unauthorized_client", "invalid_scope", "unsupported_response_type"}
	list, err := json.Marshal(codes)
	if err != nil {
		p.t.Fatal(err)
	}
	type message struct {
		Code string `json:"code"`
		Text string `json:"text"`
	}
	messages := eval[[]message](p, "the login error messages",
		`import('/messages.js').then((m) => `+string(list)+`.map((code) => m.describeLoginError(code)))`)
	for i, m := range messages {
		if m.Code != "login_"+codes[i] || m.Text == "" {
			p.t.Errorf("login_error=%s: the page says %+v, want words of its own", codes[i], m)
		}
	}

	// Anyone can write a URL: an unknown code gets a general message, not shown itself.
	p.goTo("a failed login with an unknown code", p.base+"/?login_error=%3Cb%3Epwned")
	p.waitStatus("login_unknown")
	if text := eval[string](p, "the status text", `document.getElementById('status').textContent`); strings.Contains(text, "pwned") {
		p.t.Errorf("the page repeats an unknown login_error: %q", text)
	}
}

// narrowScreens checks that at a phone's width of 360px nothing of the page is wider
// than the screen, and takes screenshots at that width and at 760px (the README's);
// then it restores the desktop size at which Lock runs (at 480px and less Lock shows
// a full-screen layout with hidden duplicates of its buttons).
func (p *pageTab) narrowScreens() {
	p.t.Helper()
	p.do("a phone's screen", chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	overflow := eval[int](p, "the page's width", `document.documentElement.scrollWidth - document.documentElement.clientWidth`)
	if overflow > 0 {
		p.t.Errorf("at 360px the page is %dpx wider than the screen", overflow)
	}
	p.screenshot("360px")
	p.do("a small window", chromedp.EmulateViewport(760, 560))
	p.screenshot("760px")
	p.do("back to a desktop screen", desktop)
}

type pageSession struct {
	Authenticated bool `json:"authenticated"`
}

// session is what /auth/session tells the page.
func (p *pageTab) session() pageSession {
	p.t.Helper()
	return eval[pageSession](p, "/auth/session", `fetch('/auth/session', {cache: 'no-store'}).then((r) => r.json())`)
}

func (p *pageTab) location() string {
	p.t.Helper()
	return eval[string](p, "the location", `window.location.href`)
}

// screenshot saves the tab as it is now.
func (p *pageTab) screenshot(name string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, pageStepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	p.shot++
	prefix := strings.NewReplacer(" ", "-", "/", "-").Replace(strings.TrimPrefix(p.t.Name(), "TestPageInChromium/"))
	file := filepath.Join(p.shots, fmt.Sprintf("%s-%02d-%s.png", prefix, p.shot, name))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		p.t.Errorf("screenshot %s: %v", name, err)
	}
}

// finish makes the last checks: what happened since the last step, then whether
// every document of linkbff came with make run's policy.
func (p *pageTab) finish() {
	p.t.Helper()
	// A round trip, so that every event the browser sent before it has been seen.
	_ = eval[bool](p, "a round trip", `true`)
	p.check("at the end")
	p.checkPolicy()
	for _, origin := range []string{p.base, p.tenant} {
		if !slices.Contains(p.checked, origin) {
			p.t.Errorf("the storage of %s was never checked for tokens", origin)
		}
	}
}

// debug logs what helps to understand a failure: where the tab is, its text, the
// console and the requests.
func (p *pageTab) debug() {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
		p.t.Logf("the tab is at %s", loc)
	}
	if body, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`)); err == nil {
		p.t.Logf("the page's text:\n%s", body)
	}
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		file := filepath.Join(p.shots, "failure.png")
		if os.WriteFile(file, png, 0o644) == nil {
			p.t.Logf("screenshot: %s", file)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.t.Logf("console:\n  %s", strings.Join(p.console, "\n  "))
	var requests []string
	for _, r := range p.requests {
		if len(r) > 140 {
			r = r[:140] + "…"
		}
		requests = append(requests, r)
	}
	p.t.Logf("requests:\n  %s", strings.Join(requests, "\n  "))
}

// TestFindToken: the browser test's token detector finds a real ID token of the
// tenant however it is stored (as is, in JSON, URL-encoded), and tokens by name, and
// does not mistake what the page and Lock legitimately store for one.
func TestFindToken(t *testing.T) {
	tn := devtenanttest.Start(t, devtenant.Options{})
	tok, err := tn.Mint(devtenant.MintRequest{UserID: githubAlice, ClientID: testClientID, Nonce: "n"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		tok.IDToken,
		"keyvalue" + tok.IDToken,
		`{"result":{"idToken":"` + tok.IDToken + `"}}`,
		"com.auth0.auth.x=" + url.QueryEscape(`{"t":"`+tok.IDToken+`"}`),
		"id_token=abc",
		`{"access_token": "opaque"}`,
		"refresh_token%3Dv1.abc",
	} {
		if _, found := findToken(s); !found {
			t.Errorf("findToken(%.60q) found nothing", s)
		}
	}
	for _, s := range []string{
		"linkbff_session=Zm9vYmFyYmF6cXV4",
		`com.auth0.auth.x={"nonce":"abc.def.ghi","state":"xyz","lastUsedConnection":"github","appState":null}`,
		`{"responseType":"id_token","scope":"openid profile email"}`,
		"alice@users.noreply.example",
		"v1.2.3-beta.4",
	} {
		if what, found := findToken(s); found {
			t.Errorf("findToken(%q) = %s, want nothing", s, what)
		}
	}
}
