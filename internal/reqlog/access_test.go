package reqlog_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/reqlog"
)

// viaSlog is the line slog's JSON handler writes for a (through SlogAccess), the
// reference JSONAccess must match byte for byte.
func viaSlog(ctx context.Context, h func(*bytes.Buffer) slog.Handler, a reqlog.Access) string {
	var buf bytes.Buffer
	reqlog.SlogAccess{Logger: slog.New(h(&buf))}.Log(ctx, &a)
	return buf.String()
}

func viaJSONAccess(ctx context.Context, j reqlog.JSONAccess, a reqlog.Access) string {
	var buf bytes.Buffer
	j.Out = &buf
	j.Log(ctx, &a)
	return buf.String()
}

func slogJSON(w *bytes.Buffer) slog.Handler {
	return slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})
}

// tricky are strings whose escaping differs between encoders: quotes, backslashes,
// control bytes, DEL, HTML characters, invalid UTF-8, U+2028/2029, multi-byte runes.
var tricky = []string{
	"", "plain", `q"uote`, `back\slash`, "nl\ncr\rtab\t", "\x00\x01\x1f\x7f", "<script>&amp;",
	"bad\xffutf8\xc3", "ls\u2028ps\u2029", "héllo 世界 🙂", "\u00a0nbsp", "/me/identities/{provider}/{user_id}",
	"2001:db8::1", "192.0.2.1:1234", "\xed\xa0\x80surrogate",
}

var durations = []time.Duration{0, 1, 999, time.Microsecond, 12345 * time.Nanosecond, 1500 * time.Microsecond,
	3 * time.Second, 2 * time.Hour, 1<<63 - 1, -time.Millisecond}

// JSONAccess writes what slog's JSON handler writes for the same record: keys, order,
// time and number formats, escaping.
func TestJSONAccessMatchesSlog(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 28, 10, 1, 21, 123456789, time.UTC)
	times := []time.Time{at, at.Truncate(time.Second), at.In(time.FixedZone("x", 5*3600+1800)), time.Now()}
	n := 0
	check := func(a reqlog.Access) {
		t.Helper()
		n++
		want := viaSlog(ctx, slogJSON, a)
		if got := viaJSONAccess(ctx, reqlog.JSONAccess{}, a); got != want {
			t.Errorf("JSONAccess wrote\n%s\nslog's JSON handler\n%s", got, want)
		}
	}
	for i, s := range tricky {
		check(reqlog.Access{Time: times[i%len(times)], Level: slog.LevelInfo, RequestID: s, ClientIP: s, Method: s, Route: s,
			Status: 200, Duration: durations[i%len(durations)]})
	}
	for i, d := range durations {
		check(reqlog.Access{Time: times[i%len(times)], Level: slog.LevelDebug, RequestID: "r", ClientIP: "192.0.2.1",
			Method: "GET", Route: "/healthz", Status: []int{200, 304, 404, 500, 0, -1}[i%6], Duration: d})
	}
	if n == 0 {
		t.Fatal("nothing compared")
	}
}

func FuzzJSONAccessMatchesSlog(f *testing.F) {
	for _, s := range tricky {
		f.Add(s, s, int64(1500000), 200)
	}
	f.Fuzz(func(t *testing.T, s1, s2 string, d int64, status int) {
		a := reqlog.Access{Time: time.Unix(1764324081, d%1e9).UTC(), Level: slog.LevelInfo,
			RequestID: s1, ClientIP: s2, Method: s1, Route: s2, Status: status, Duration: time.Duration(d)}
		want := viaSlog(context.Background(), slogJSON, a)
		if got := viaJSONAccess(context.Background(), reqlog.JSONAccess{}, a); got != want {
			t.Errorf("JSONAccess wrote\n%s\nslog's JSON handler\n%s", got, want)
		}
	})
}

type traceKey struct{}

// withTrace is what a tracing wrapper of slog's handler does: it adds attributes of
// the record's context to every record.
type withTrace struct{ slog.Handler }

func (h withTrace) Handle(ctx context.Context, r slog.Record) error {
	r.AddAttrs(traceAttrs(ctx, nil)...)
	return h.Handler.Handle(ctx, r)
}

func traceAttrs(ctx context.Context, attrs []slog.Attr) []slog.Attr {
	if id, ok := ctx.Value(traceKey{}).(string); ok {
		attrs = append(attrs, slog.String("trace_id", id), slog.String("span_id", id[:4]),
			slog.Int("n", -3), slog.Uint64("u", 7), slog.Bool("sampled", true), slog.Float64("f", 1e-7),
			slog.Duration("d", time.Second), slog.Time("t", time.Unix(0, 5).UTC()), slog.Any("e", errors.New(`e"rr`)),
			slog.Any("m", map[string]int{"a": 1}), slog.Any("nil", nil), slog.Attr{})
	}
	return attrs
}

// JSONAccess.Attrs adds the attributes of the request's context as such a wrapper
// would, in the same format.
func TestJSONAccessAttrsOfContext(t *testing.T) {
	a := reqlog.Access{Time: time.Now(), Level: slog.LevelInfo, RequestID: "r1", ClientIP: "192.0.2.1",
		Method: "GET", Route: "/me/identities", Status: 200, Duration: time.Millisecond}
	j := reqlog.JSONAccess{Attrs: traceAttrs}
	for _, ctx := range []context.Context{context.Background(), context.WithValue(context.Background(), traceKey{}, "4bf92f3577b34da6a3ce929d0e0e4736")} {
		want := viaSlog(ctx, func(w *bytes.Buffer) slog.Handler { return withTrace{slogJSON(w)} }, a)
		if got := viaJSONAccess(ctx, j, a); got != want {
			t.Errorf("JSONAccess wrote\n%s\nslog's JSON handler\n%s", got, want)
		}
	}
}

// Enabled follows Level, info when none is set.
func TestJSONAccessEnabled(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		level slog.Leveler
		at    slog.Level
		want  bool
	}{
		{nil, slog.LevelInfo, true},
		{nil, slog.LevelDebug, false},
		{slog.LevelDebug, slog.LevelDebug, true},
		{slog.LevelWarn, slog.LevelInfo, false},
		{slog.LevelWarn, slog.LevelError, true},
	} {
		j := reqlog.JSONAccess{Level: tc.level}
		if got := j.Enabled(ctx, tc.at); got != tc.want {
			t.Errorf("Level %v: Enabled(%v) = %v, want %v", tc.level, tc.at, got, tc.want)
		}
	}
}

// Values slog cannot write as JSON come out as its error strings.
func TestJSONAccessUnwritableAttrs(t *testing.T) {
	a := reqlog.Access{Time: time.Unix(0, 0).UTC(), Level: slog.LevelInfo}
	bad := []slog.Attr{slog.Float64("inf", math.Inf(1)), slog.Float64("nan", math.NaN()), slog.Any("ch", make(chan int))}
	attrs := func(_ context.Context, as []slog.Attr) []slog.Attr { return append(as, bad...) }
	add := func(h slog.Handler) slog.Handler { return addAttrs{h, bad} }
	want := viaSlog(context.Background(), func(w *bytes.Buffer) slog.Handler { return add(slogJSON(w)) }, a)
	if got := viaJSONAccess(context.Background(), reqlog.JSONAccess{Attrs: attrs}, a); got != want {
		t.Errorf("JSONAccess wrote\n%s\nslog's JSON handler\n%s", got, want)
	}
}

type addAttrs struct {
	slog.Handler
	attrs []slog.Attr
}

func (h addAttrs) Handle(ctx context.Context, r slog.Record) error {
	r.AddAttrs(h.attrs...)
	return h.Handler.Handle(ctx, r)
}
