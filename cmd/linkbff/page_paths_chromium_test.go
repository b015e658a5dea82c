package main

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/linkbff/linkbff/internal/devtenant/devtenanttest"
)

// The paths of TestPageInChromium beyond a plain link and unlink: a suggested
// account, and a change that needs a fresh login first.

// Demo users of the development tenant's seed that have Alice's verified email.
const (
	githubAliceWork = "github|5150" // "Alice at work": a GitHub account with alice@example.com
	aliceDatabase   = "auth0|alice"
	aliceMasked     = "a***e@example.com" // alice@example.com as a suggestion shows it
	databaseName    = "Username-Password-Authentication"
)

// testSuggestedAccount: Alice is offered her GitHub account with the same verified
// email, by its masked email and nothing that names it. Link it opens Lock with only
// GitHub; after that account's login the list has it, and the offer is gone, also
// after a reload.
func testSuggestedAccount(t *testing.T, chromium context.Context, shots string) {
	base := startDevRun(t, nil)
	p := openPage(t, chromium, base, shots)
	p.openSignedOut()
	p.login()
	p.wantIdentities("after login", aliceDatabase)
	p.wantSuggestions("after login", suggestionShown{
		Connection: "github",
		Text:       "We found a GitHub account with your email (" + aliceMasked + "). Link it?",
		Name:       "Alice at work",
	})
	p.screenshot("suggestion")

	p.click("Link it", `#suggestion-list li[data-connection="github"] .link-suggestion`)
	p.waitStatus("lock_open")
	p.do("wait for Lock's GitHub button", chromedp.WaitVisible(chromedp.CSS(lockGitHubLink)), lockSettled)
	p.wantLock("Lock for the suggested GitHub account", lockShown{Social: []string{"github"}})
	p.screenshot("suggestion-lock")
	p.click("Lock's GitHub button", lockGitHubLink)
	p.chooseGitHubUser(githubAliceWork)
	p.waitStatus("linked")
	p.wantIdentities("after linking the suggested account", aliceDatabase, githubAliceWork)
	p.wantSuggestions("after linking the suggested account")
	p.screenshot("suggestion-linked")

	p.do("reload", chromedp.Reload())
	p.wantIdentities("after a reload", aliceDatabase, githubAliceWork)
	p.wantSuggestions("after a reload")
	p.finish()
}

// testSuggestedDatabaseAccount: logged in with the GitHub account, Alice is offered
// her database account. Link it opens Lock with only that connection and her email
// filled in; she types the password, and the list has both.
func testSuggestedDatabaseAccount(t *testing.T, chromium context.Context, shots string) {
	base := startDevRun(t, nil)
	p := openPage(t, chromium, base, shots)
	p.openSignedOut()
	p.click("log in", "#login")
	p.waitFor("the tenant's login page", `a[data-connection="github"]`)
	p.click("continue with GitHub on the tenant's login page", `a[data-connection="github"]`)
	p.chooseGitHubUser(githubAliceWork)
	p.waitFor("the signed-in view", `#main[data-state="signed-in"]`)
	if name := eval[string](p, "the user's name", `document.getElementById('user-name').textContent`); name != "Alice at work" {
		t.Errorf("the page names the user %q, want Alice at work", name)
	}
	p.do("wait for the user's picture", chromedp.Poll[chromedp.Void](`(() => {
		const img = document.getElementById('user-picture');
		return !img.hidden && img.complete && img.naturalWidth > 0;
	})()`))
	if pic := eval[string](p, "the user's picture", `document.getElementById('user-picture').src`); pic != devtenanttest.DemoPicture(t, githubAliceWork) {
		t.Errorf("the page shows the picture %.60q, want the seed's", pic)
	}
	p.wantIdentities("after login", githubAliceWork)
	p.wantSuggestions("after login", suggestionShown{
		Connection: databaseName,
		Text:       "We found an Email and password account with your email (" + aliceMasked + "). Link it?",
		Name:       "Alice Example",
	})

	p.click("Link it", `#suggestion-list li[data-connection="`+databaseName+`"] .link-suggestion`)
	p.waitStatus("lock_open")
	const lockPassword = `.auth0-lock.auth0-lock-opened input[name="password"]`
	p.do("wait for Lock's password field", chromedp.WaitVisible(chromedp.CSS(lockPassword)), lockSettledAt(lockPassword))
	p.wantLock("Lock for the suggested database account", lockShown{Email: aliceEmail, HasEmail: true, Password: true})
	p.screenshot("suggestion-database-lock")
	p.do("type the password into Lock",
		chromedp.Click(chromedp.CSS(lockPassword)),
		chromedp.SendKeys(chromedp.CSS(lockPassword), alicePassword),
		chromedp.Click(chromedp.CSS(`.auth0-lock.auth0-lock-opened .auth0-lock-submit`)),
	)
	p.waitStatus("linked")
	p.wantIdentities("after linking the suggested account", githubAliceWork, aliceDatabase)
	p.wantSuggestions("after linking the suggested account")
	p.screenshot("suggestion-database-linked")
	p.finish()
}

// testFreshLogin: with the login older than REAUTH_MAX_AGE (linkbff's clock moved
// an hour ahead), a link and then an unlink send the browser to the tenant's login,
// which must ask for the password again (prompt=login, max_age=0). Logged in again
// (the clock back), the page finishes what it was doing: it opens Lock for the link
// again, and carries out the unlink the person had confirmed.
func testFreshLogin(t *testing.T, chromium context.Context, shots string) {
	var clock aheadClock
	base := startDevRunClock(t, nil, clock.now)
	p := openPage(t, chromium, base, shots)
	p.openSignedOut()
	p.login()
	p.wantIdentities("after login", aliceDatabase)

	clock.set(time.Hour)
	p.linkWithLock(githubAlice)
	p.wantFreshLogin("a link with an old login")
	p.screenshot("fresh-login")
	clock.set(0)
	p.submitLogin()
	// The ID token of the account to link was dropped on the way: the page opens
	// Lock for it again, and that account's login goes as always.
	p.waitLock()
	p.wantIdentities("back from the fresh login", aliceDatabase)
	p.click("Lock's GitHub button", lockGitHubLink)
	p.chooseGitHubUser(githubAlice)
	p.waitStatus("linked")
	p.wantIdentities("after the link the fresh login resumed", aliceDatabase, githubAlice)

	clock.set(time.Hour)
	p.click("ask to unlink GitHub", `#identities li[data-user-id="4242"] .unlink`)
	p.click("confirm", "#unlink-confirm")
	p.wantFreshLogin("an unlink with an old login")
	clock.set(0)
	p.submitLogin()
	p.waitStatus("unlinked")
	p.wantIdentities("after the unlink the fresh login resumed", aliceDatabase)
	p.screenshot("fresh-login-unlinked")
	p.finish()
}

// aheadClock is linkbff's clock for the login-age rule, which the test moves ahead
// so that a login made now is old at once.
type aheadClock struct{ ahead atomic.Int64 }

func (c *aheadClock) now() time.Time      { return time.Now().Add(time.Duration(c.ahead.Load())) }
func (c *aheadClock) set(d time.Duration) { c.ahead.Store(int64(d)) }

// wantFreshLogin waits for the tenant's login page that the page sent the browser
// to after linkbff's reauth_required: reached through the problem's login_url, and
// asking the tenant to authenticate again (prompt=login, max_age=0).
func (p *pageTab) wantFreshLogin(after string) {
	p.t.Helper()
	p.waitFor("the tenant's login page after "+after, `#database-login input[name="email"]`)
	p.mu.Lock()
	requests := slices.Clone(p.requests)
	p.mu.Unlock()
	if !slices.Contains(requests, "GET "+p.base+loginURLWant) {
		p.t.Errorf("after %s the browser did not go to the login_url %s", after, loginURLWant)
	}
	loc, err := url.Parse(p.location())
	if err != nil {
		p.t.Fatal(err)
	}
	q := loc.Query()
	if loc.Scheme+"://"+loc.Host != p.tenant || loc.Path != "/authorize" || q.Get("prompt") != "login" || q.Get("max_age") != "0" {
		p.t.Errorf("after %s the tab is at %s, want the tenant's /authorize with prompt=login and max_age=0", after, loc)
	}
}

// suggestionShown is a suggestion as the page shows it.
type suggestionShown struct {
	Connection string `json:"connection"`
	Text       string `json:"text"`
	Name       string `json:"name"`
}

// wantSuggestions waits until the page has asked for suggestions and checks that it
// shows exactly want (and the section only when there is one). A suggestion must not
// show, nor carry in its markup, anything that names the other account: its user id
// or its email unmasked.
func (p *pageTab) wantSuggestions(when string, want ...suggestionShown) {
	p.t.Helper()
	p.waitFor("the suggestions "+when, `#suggestions[data-state="ready"]`)
	type shown struct {
		Hidden bool              `json:"hidden"`
		Items  []suggestionShown `json:"items"`
		HTML   string            `json:"html"`
	}
	got := eval[shown](p, "the suggestions", `(() => {
		const section = document.getElementById('suggestions');
		return {
			hidden: section.hidden || section.getClientRects().length === 0,
			items: [...section.querySelectorAll('#suggestion-list li.suggestion')].map((li) => ({
				connection: li.dataset.connection,
				text: li.querySelector('.suggestion-text').innerText,
				name: li.querySelector('.suggestion-name').innerText,
			})),
			html: section.outerHTML,
		};
	})()`)
	if !slices.Equal(got.Items, want) {
		p.t.Errorf("%s: the page suggests %+v, want %+v", when, got.Items, want)
	}
	if got.Hidden != (len(want) == 0) {
		p.t.Errorf("%s: the suggestions are hidden=%v with %d of them", when, got.Hidden, len(want))
	}
	for _, secret := range []string{"5150", "github|", "auth0|", "alice@example.com", "alice-work"} {
		if strings.Contains(got.HTML, secret) {
			p.t.Errorf("%s: the suggestions show %q:\n%s", when, secret, got.HTML)
		}
	}
}

// lockShown is what the open Lock offers: the social buttons it shows (by provider),
// and whether it has an email field (with what in it) and a password field.
type lockShown struct {
	Social   []string `json:"social"`
	HasEmail bool     `json:"has_email"`
	Email    string   `json:"email"`
	Password bool     `json:"password"`
}

// wantLock checks what the open Lock offers.
func (p *pageTab) wantLock(what string, want lockShown) {
	p.t.Helper()
	got := eval[lockShown](p, what, `(() => {
		const lock = document.querySelector('.auth0-lock.auth0-lock-opened');
		const shown = (el) => !!el && el.getClientRects().length > 0;
		const email = lock.querySelector('input[name="email"]');
		return {
			social: [...lock.querySelectorAll('.auth0-lock-social-button')].filter(shown).map((b) => b.dataset.provider),
			has_email: shown(email),
			email: shown(email) ? email.value : '',
			password: shown(lock.querySelector('input[name="password"]')),
		};
	})()`)
	if got.Social == nil {
		got.Social = []string{}
	}
	if want.Social == nil {
		want.Social = []string{}
	}
	if !slices.Equal(got.Social, want.Social) || got.HasEmail != want.HasEmail || got.Email != want.Email || got.Password != want.Password {
		p.t.Errorf("%s shows %+v, want %+v", what, got, want)
	}
}
