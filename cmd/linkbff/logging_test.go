package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/linkbff/linkbff/internal/config"
	"github.com/linkbff/linkbff/internal/reqlog"
	"github.com/linkbff/linkbff/internal/testkit"
)

// logAccess writes an access line with request id id.
func logAccess(logs loggers, id string) {
	logs.access.Log(context.Background(), &reqlog.Access{Time: time.Now(), Level: slog.LevelInfo, RequestID: id, Status: 200})
}

// Access lines wait in the buffer; any other record writes them out, before itself.
func TestAccessLinesAreBufferedAndKeepTheirOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out testkit.Buffer
		logs := newLoggers(config.Config{LogFormat: "json", LogLevel: slog.LevelInfo}, &out)
		logAccess(logs, "n1")
		logAccess(logs, "n2")
		if got := out.String(); got != "" {
			t.Fatalf("access lines written at once: %q", got)
		}
		logs.log.With("request_id", "r1").Warn("audit link")
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != 3 || !strings.Contains(lines[0], `"request_id":"n1"`) || !strings.Contains(lines[1], `"request_id":"n2"`) || !strings.Contains(lines[2], "audit link") {
			t.Fatalf("output after a record of the other logger:\n%s", out.String())
		}
	})
}

// A buffered access line reaches the output within accessFlushEvery, and at flush.
func TestAccessLinesAreFlushedInTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out testkit.Buffer
		logs := newLoggers(config.Config{LogFormat: "text"}, &out)
		logAccess(logs, "n1")
		time.Sleep(accessFlushEvery - time.Millisecond)
		synctest.Wait()
		if got := out.String(); got != "" {
			t.Fatalf("written before accessFlushEvery: %q", got)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if got := out.String(); !strings.Contains(got, "request_id=n1") {
			t.Fatalf("not written after accessFlushEvery: %q", got)
		}
		logAccess(logs, "n2")
		logs.flush()
		if got := out.String(); !strings.Contains(got, "request_id=n2") {
			t.Fatalf("not written by flush: %q", got)
		}
	})
}

// A full buffer is written out without waiting.
func TestAccessLinesFillingTheBufferAreWritten(t *testing.T) {
	var out testkit.Buffer
	logs := newLoggers(config.Config{LogFormat: "json"}, &out)
	long := strings.Repeat("x", 1024)
	for range 70 { // 70 lines of over 1 KiB: more than the 64 KiB buffer
		logs.access.Log(context.Background(), &reqlog.Access{Level: slog.LevelInfo, Route: long})
	}
	if n := strings.Count(out.String(), "\n"); n < 50 {
		t.Errorf("%d of 70 lines written, want the buffer's worth without a flush", n)
	}
	logs.flush()
}
