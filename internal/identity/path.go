package identity

import (
	"github.com/linkbff/linkbff/internal/account"
	"github.com/linkbff/linkbff/internal/fault"
)

// ValidateIdentityPath checks the {provider}/{user_id} of an unlink request against
// the shapes Auth0 gives them (account.CheckProvider, account.CheckIdentityUserID):
// user_id must be printable ASCII without path, query or fragment syntax ('/', '\',
// '?', '#', '%') and not a dot segment, at most 256 bytes; it is escaped again toward
// Auth0.
func ValidateIdentityPath(provider, userID string) error {
	var fields []fault.FieldError
	if msg := account.CheckProvider(provider); msg != "" {
		fields = append(fields, fault.FieldError{Field: "provider", Message: msg})
	}
	if msg := account.CheckIdentityUserID(userID); msg != "" {
		fields = append(fields, fault.FieldError{Field: "user_id", Message: msg})
	}
	if len(fields) == 0 {
		return nil
	}
	p := fault.New(fault.InvalidPath, "The identity in the path is not valid.")
	p.Fields = fields
	return p
}

// checkCaller refuses a caller whose user id is not an Auth0 user id before it is
// put into a Management API URL. The HTTP edge refuses such a credential first; this
// is the rules' own guarantee, whatever authenticated the caller.
func checkCaller(userID string) error {
	if err := account.CheckUserID(userID); err != nil {
		return fault.Wrap(err, fault.InvalidToken, "The credential does not name an Auth0 user.")
	}
	return nil
}
