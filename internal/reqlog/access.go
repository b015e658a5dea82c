package reqlog

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// Access is the access record of one request: one "request" line, when it is done.
type Access struct {
	Time      time.Time
	Level     slog.Level
	RequestID string
	ClientIP  string
	Method    string
	Route     string // the pattern of the route that served it; "" if none matched
	Status    int
	Duration  time.Duration // logged as duration_seconds
}

// AccessMessage is the message of every access line.
const AccessMessage = "request"

// AccessLog writes access records.
type AccessLog interface {
	// Enabled reports whether a record at level would be written.
	Enabled(ctx context.Context, level slog.Level) bool
	// Log writes a. ctx is the request's context, for whatever the log adds from it.
	Log(ctx context.Context, a *Access)
}

// SlogAccess writes access records through a slog.Logger's handler, as one record
// each: msg "request" and the attributes request_id, client_ip, method, route,
// status and duration_seconds.
type SlogAccess struct{ Logger *slog.Logger }

func (s SlogAccess) Enabled(ctx context.Context, level slog.Level) bool {
	return s.Logger.Handler().Enabled(ctx, level)
}

// Log sends the record to the handler directly: Logger.LogAttrs would also walk the
// stack for the caller's PC, which this line never shows.
func (s SlogAccess) Log(ctx context.Context, a *Access) {
	rec := slog.NewRecord(a.Time, a.Level, AccessMessage, 0)
	rec.AddAttrs(slog.String("request_id", a.RequestID), slog.String("client_ip", a.ClientIP),
		slog.String("method", a.Method), slog.String("route", a.Route),
		slog.Int("status", a.Status), slog.Float64("duration_seconds", a.Duration.Seconds()))
	_ = s.Logger.Handler().Handle(ctx, rec)
}

// JSONAccess writes each access record as one line exactly as slog.NewJSONHandler
// (with no options but the level) writes the record SlogAccess makes of it: the same
// keys in the same order, time format, number format and string escaping
// (TestJSONAccessMatchesSlog). It does the work of slog's general handler for one
// fixed record, which on a request answered from the caches was about an eighth of
// linkbff's time, into a pooled buffer, and writes that with one Write: Out must be
// safe for concurrent writes (linkbff's is its log sink).
type JSONAccess struct {
	Out   io.Writer
	Level slog.Leveler // the minimum level written (nil: info)
	// Attrs, when set, appends attributes of the request's context to attrs (and
	// returns it), written after the record's own: the hook for what a slog.Handler
	// wrapper would add to every record (trace_id and span_id, say). nil adds none.
	// Values are written as slog's JSON handler writes them.
	Attrs func(ctx context.Context, attrs []slog.Attr) []slog.Attr
}

func (j *JSONAccess) Enabled(_ context.Context, level slog.Level) bool {
	min := slog.LevelInfo
	if j.Level != nil {
		min = j.Level.Level()
	}
	return level >= min
}

var accessBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func (j *JSONAccess) Log(ctx context.Context, a *Access) {
	bp := accessBufs.Get().(*[]byte)
	b := (*bp)[:0]
	b = append(b, `{"time":"`...)
	b = a.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":"`...)
	b = append(b, a.Level.String()...)
	b = append(b, `","msg":"`+AccessMessage+`","request_id":"`...)
	b = appendJSONString(b, a.RequestID)
	b = append(b, `","client_ip":"`...)
	b = appendJSONString(b, a.ClientIP)
	b = append(b, `","method":"`...)
	b = appendJSONString(b, a.Method)
	b = append(b, `","route":"`...)
	b = appendJSONString(b, a.Route)
	b = append(b, `","status":`...)
	b = strconv.AppendInt(b, int64(a.Status), 10)
	b = append(b, `,"duration_seconds":`...)
	b = appendJSONFloat(b, a.Duration.Seconds())
	if j.Attrs != nil {
		var stack [4]slog.Attr
		for _, at := range j.Attrs(ctx, stack[:0]) {
			b = appendJSONAttr(b, at)
		}
	}
	b = append(b, "}\n"...)
	_, _ = j.Out.Write(b)
	if cap(b) <= 4<<10 { // an odd huge line is not kept
		*bp = b
		accessBufs.Put(bp)
	}
}

// appendJSONAttr appends ,"key":value as slog's JSON handler does; an attribute with
// an empty key and value is left out, as slog leaves it out.
func appendJSONAttr(b []byte, a slog.Attr) []byte {
	v := a.Value.Resolve()
	if a.Key == "" && v.Any() == nil {
		return b
	}
	b = append(b, `,"`...)
	b = appendJSONString(b, a.Key)
	b = append(b, `":`...)
	switch v.Kind() {
	case slog.KindString:
		b = append(b, '"')
		b = appendJSONString(b, v.String())
		b = append(b, '"')
	case slog.KindInt64:
		b = strconv.AppendInt(b, v.Int64(), 10)
	case slog.KindUint64:
		b = strconv.AppendUint(b, v.Uint64(), 10)
	case slog.KindFloat64:
		b = appendJSONFloat(b, v.Float64())
	case slog.KindBool:
		b = strconv.AppendBool(b, v.Bool())
	case slog.KindDuration:
		b = strconv.AppendInt(b, int64(v.Duration()), 10)
	case slog.KindTime:
		b = append(b, '"')
		b = v.Time().AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	default: // Any, and a group: not what a trace id is; as json.Marshal writes it
		x := v.Any()
		if err, ok := x.(error); ok {
			x = err.Error()
		}
		j, err := json.Marshal(x)
		if err != nil {
			b = append(b, `"!ERROR:`...)
			b = appendJSONString(b, err.Error())
			return append(b, '"')
		}
		b = append(b, j...)
	}
	return b
}

// appendJSONFloat appends f as encoding/json writes a float64 (what slog's JSON
// handler calls for one): %f, or %e with a short exponent for the very small and the
// very large.
func appendJSONFloat(b []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		// What slog writes for json.Marshal's error (a duration never is one).
		b = append(b, `"!ERROR:json: unsupported value: `...)
		b = strconv.AppendFloat(b, f, 'g', -1, 64)
		return append(b, '"')
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendJSONString appends s escaped as slog's JSON handler escapes it (without
// the quotes): \" \\ \n \r \t, other control bytes as \u00XX, invalid UTF-8 as
// \ufffd, U+2028 and U+2029 escaped; <, > and & as they are.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}
