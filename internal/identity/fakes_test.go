package identity_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/linkbff/linkbff/internal/account"
	"github.com/linkbff/linkbff/internal/fault"
	"github.com/linkbff/linkbff/internal/reqlog"
	"github.com/linkbff/linkbff/internal/testkit"
)

// fakeUpstream is a hand-written Management API: users to read, canned link and
// unlink answers, injected errors, and a record of every call in order.
type fakeUpstream struct {
	calls testkit.Calls
	mu    sync.Mutex
	users map[string]*account.User
	// fail holds errors to return, keyed "Op firstArg" (e.g. "GetUser github|4242")
	// or "Op" for any call of that operation.
	fail map[string]error
	// linked and unlinked are what link and unlink calls answer.
	linked, unlinked []account.Identity

	// gate, when set, holds every call (after it is recorded) until it receives a
	// value or is closed.
	gate chan struct{}
	// inFlight counts calls in progress; maxInFlight is its high-water mark.
	inFlight, maxInFlight atomic.Int32
}

func (f *fakeUpstream) enter(op string, args ...string) error {
	n := f.inFlight.Add(1)
	for {
		m := f.maxInFlight.Load()
		if n <= m || f.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	f.calls.Add(strings.Join(append([]string{op}, args...), " "))
	f.mu.Lock()
	err := f.fail[op+" "+args[0]]
	if err == nil {
		err = f.fail[op]
	}
	gate := f.gate
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	return err
}

func (f *fakeUpstream) leave() { f.inFlight.Add(-1) }

func (f *fakeUpstream) callLog() []string { return f.calls.List() }
func (f *fakeUpstream) resetCalls()       { f.calls.Reset() }

func (f *fakeUpstream) GetUser(_ context.Context, userID string) (*account.User, error) {
	defer f.leave()
	if err := f.enter("GetUser", userID); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.users[userID]
	if !ok {
		return nil, fault.Failure{Kind: fault.NotFound, Message: "The user does not exist."}
	}
	cp := *u
	return &cp, nil
}

func (f *fakeUpstream) UpdateUserMetadata(_ context.Context, userID string, md map[string]any) error {
	defer f.leave()
	b, err := json.Marshal(md)
	if err != nil {
		return err
	}
	return f.enter("UpdateUserMetadata", userID, string(b))
}

func (f *fakeUpstream) LinkWithToken(_ context.Context, primaryUserID, idToken string) ([]account.Identity, error) {
	defer f.leave()
	if err := f.enter("LinkWithToken", primaryUserID, idToken); err != nil {
		return nil, err
	}
	return f.linked, nil
}

func (f *fakeUpstream) LinkIdentity(_ context.Context, primaryUserID, provider, userID string) ([]account.Identity, error) {
	defer f.leave()
	if err := f.enter("LinkIdentity", primaryUserID, provider, userID); err != nil {
		return nil, err
	}
	return f.linked, nil
}

func (f *fakeUpstream) Unlink(_ context.Context, primaryUserID, provider, userID string) ([]account.Identity, error) {
	defer f.leave()
	if err := f.enter("Unlink", primaryUserID, provider, userID); err != nil {
		return nil, err
	}
	return f.unlinked, nil
}

// fakeVerifier knows a fixed set of raw tokens; any other is invalid.
type fakeVerifier struct {
	tokens map[string]account.IDToken
	err    error // returned for every token when set
}

func (v *fakeVerifier) Verify(_ context.Context, raw string) (account.IDToken, error) {
	if v.err != nil {
		return account.IDToken{}, v.err
	}
	tok, ok := v.tokens[raw]
	if !ok {
		return account.IDToken{}, fmt.Errorf("%w: not a token of this test", fault.Failure{Kind: fault.Invalid, Message: "invalid ID token"})
	}
	return tok, nil
}

// quietCtx is a request context whose logger discards (the audit records).
func quietCtx() context.Context {
	return reqlog.With(context.Background(), slog.New(slog.DiscardHandler))
}
