package web

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// TestLogHandlerAddsRequestID logs through LogHandler with and without a
// request's context, and with a record that names its id itself.
func TestLogHandlerAddsRequestID(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewJSONHandler(&buf, nil))).With("component", "test")
	ctx := context.WithValue(context.Background(), requestIDKey{}, "abc123")

	log.InfoContext(ctx, "security event", "event", "signin")
	log.InfoContext(context.Background(), "no request")
	log.LogAttrs(ctx, slog.LevelInfo, "named", slog.String("request_id", "abc123"))

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines: %s", len(lines), buf.String())
	}
	want := []string{"abc123", "", "abc123"}
	for i, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		got, _ := rec["request_id"].(string)
		if got != want[i] || rec["component"] != "test" {
			t.Errorf("line %d: request_id %q, component %v; want %q, test", i, got,
				rec["component"], want[i])
		}
		if n := strings.Count(line, `"request_id"`); n > 1 {
			t.Errorf("line %d names request_id %d times: %s", i, n, line)
		}
	}
}
