package devtenant

import (
	"html/template"
	"net/http"
)

// The HTML pages the tenant shows in the browser. They are deliberately plain; the
// data-* attributes are what browser tests select on.
const (
	errorPageHTML = `{{define "error"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Error</title></head>
<body><main id="error" data-error="{{.Code}}">
<h1>Oops!, something went wrong</h1>
<p><code>{{.Code}}</code>: <span class="error-description">{{.Description}}</span></p>
</main></body></html>
{{end}}`

	loginPageHTML = `{{define "login"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Log in | {{.ClientName}}</title></head>
<body><main id="login" data-client-id="{{.ClientID}}">
<h1>Log in to {{.ClientName}}</h1>
{{with .Error}}<p class="error" role="alert" data-login-error>{{.}}</p>{{end}}
{{with .Database}}<form id="database-login" method="post" action="{{$.Action}}" data-connection="{{.}}">
<input type="hidden" name="tx" value="{{$.Tx}}">
<input type="hidden" name="connection" value="{{.}}">
<label>Email <input type="email" name="email" value="{{$.LoginHint}}" autocomplete="username" required></label>
<label>Password <input type="password" name="password" autocomplete="current-password" required></label>
<button type="submit">Log in</button>
</form>{{end}}
{{with .Social}}<form id="social-login" method="post" action="{{$.Action}}" data-connection="{{.}}">
<p>Choose the {{.}} account to continue with:</p>
<input type="hidden" name="tx" value="{{$.Tx}}">
<input type="hidden" name="connection" value="{{.}}">
{{range $.Users}}<button type="submit" name="user_id" value="{{.ID}}" data-user-id="{{.ID}}" data-email="{{.Email}}">{{.Name}} ({{.Email}})</button>
{{else}}<p>No {{.}} users are seeded.</p>{{end}}
</form>{{end}}
{{range .Links}}<p><a href="{{.URL}}" data-connection="{{.Name}}">Continue with {{.Name}}</a></p>
{{end}}</main></body></html>
{{end}}`

	// formPostHTML carries an authorization response to the client by POST
	// (response_mode=form_post).
	formPostHTML = `{{define "form_post"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Submit This Form</title></head>
<body onload="document.forms[0].submit()">
<form method="post" action="{{.Action}}">
{{range .Fields}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<noscript><button type="submit">Continue</button></noscript>
</form></body></html>
{{end}}`
)

func parsePages() (*template.Template, error) {
	return template.New("pages").Parse(errorPageHTML + loginPageHTML + formPostHTML)
}

// loginPage is the data of the login page.
type loginPage struct {
	Action     string // where the forms post
	Tx         string // the login transaction
	ClientID   string
	ClientName string
	Error      string
	Database   string // database connection whose form is shown, if any
	LoginHint  string
	Social     string // social connection whose users are shown, if any
	Users      []loginUser
	Links      []connectionLink
}

// loginUser is a button standing in for the social provider's consent screen.
type loginUser struct{ ID, Name, Email string }

// connectionLink restarts the authorize request with one connection.
type connectionLink struct{ Name, URL string }

// formPost is the data of the form_post response page.
type formPost struct {
	Action template.URL // the validated redirect_uri, which may use an app's own scheme
	Fields []formField
}

type formField struct{ Name, Value string }

// errorPage shows an error to the person in the browser, as Auth0 does when it cannot
// trust the redirect_uri (or returnTo) to carry it back to the application.
func (t *Tenant) errorPage(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = t.pages.ExecuteTemplate(w, "error", struct{ Code, Description string }{code, description})
}
