package reqlog_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/linkbff/linkbff/internal/reqlog"
)

type ctxKey struct{}

// ctxRecorder records, for each record, the ctxKey value of the context it was
// handled with.
type ctxRecorder struct {
	slog.Handler
	seen *[]any
}

func (h ctxRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (h ctxRecorder) Handle(ctx context.Context, r slog.Record) error {
	*h.seen = append(*h.seen, ctx.Value(ctxKey{}))
	return nil
}

func (h ctxRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }

// TestBindContext: the request logger's records logged without a context reach
// the handler with the bound one; those logged with a context keep theirs.
func TestBindContext(t *testing.T) {
	var seen []any
	base := slog.New(ctxRecorder{Handler: slog.DiscardHandler, seen: &seen})

	q := reqlog.NewRequest(base, "r1", "192.0.2.1")
	q.BindContext(context.WithValue(context.Background(), ctxKey{}, "request"))
	log := q.Logger()
	log.Info("plain")
	log.With("k", "v").Warn("derived")
	log.InfoContext(context.WithValue(context.Background(), ctxKey{}, "own"), "with its own")

	unbound := reqlog.NewRequest(base, "r2", "192.0.2.1").Logger()
	unbound.Info("unbound")

	if diff := cmp.Diff([]any{"request", "request", "own", nil}, seen); diff != "" {
		t.Errorf("contexts seen (-want +got):\n%s", diff)
	}
}
