package webauth

import "testing"

func TestSafeReturnTo(t *testing.T) {
	kept := []string{
		"/",
		"/account",
		"/account?tab=2",
		"/account?next=//elsewhere&x=%2F%2F", // a query may hold anything
		"/a/b.c/d",
		"/a/..b/c.",
		"/page#section",
		"/%E2%9C%93",
	}
	for _, s := range kept {
		if got := SafeReturnTo(s); got != s {
			t.Errorf("SafeReturnTo(%q) = %q, want it kept", s, got)
		}
	}
	refused := []string{
		"",
		"//evil.example",
		"///evil.example",
		"/\\evil.example",
		"\\\\evil.example",
		"\\/evil.example",
		"https://evil.example",
		"HTTPS://evil.example",
		"http:evil.example",
		"http:/evil.example",
		"javascript:alert(1)",
		"JaVaScRiPt:alert(1)",
		"data:text/html,x",
		"evil.example",
		"./x",
		"?x=1",
		"#x",
		"/%2F%2Fevil.example",
		"/%2f/evil.example",
		"%2F%2Fevil.example",
		"/%5Cevil",
		"/%5c%5cevil",
		" //evil",
		"\t//evil",
		"\n//evil",
		"/\t/evil",
		"/%09/evil",
		"/%0d%0aSet-Cookie:x=y",
		"/\r\nSet-Cookie: x=y",
		"/x y",
		"/x\x7f",
		"//evil.example@x",
		"/.//evil",
		"/./x",
		"/x/.",
		"/..//evil",
		"/x/../..//evil",
		"/%2e%2e/evil",
		"/%2E/x",
		"/%",
		"/%zz",
		"/auth",
		"/auth/login",
		"/auth/logout",
		"/%61uth/login",
		"/" + string(make([]byte, maxReturnTo)),
	}
	for _, s := range refused {
		if got := SafeReturnTo(s); got != "/" {
			t.Errorf("SafeReturnTo(%q) = %q, want /", s, got)
		}
	}
}
