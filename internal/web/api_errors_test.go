package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/clientarea/clientarea/internal/auth"
)

// TestStatusOf holds the status table of the brief.
func TestStatusOf(t *testing.T) {
	tests := []struct {
		code auth.Code
		want int
	}{
		{"invalid_input", 400},
		{"invalid_code_format", 400},
		{"invalid_credentials", 401},
		{"invalid_code", 401},
		{"unauthenticated", 401},
		{"forbidden", 403},
		{"not_found", 404},
		{"conflict", 409},
		{"request_too_large", 413},
		{"totp_locked", 423},
		{"throttled", 429},
		{"busy", 503},
		{"internal", 500},
		{"something_new", 500},
	}
	for _, tt := range tests {
		t.Run(string(tt.code), func(t *testing.T) {
			if got := statusOf(tt.code); got != tt.want {
				t.Fatalf("got %d, want %d", got, tt.want)
			}
		})
	}
}

// TestAPIErrorFunnel: what the customer sees of an error, and what is logged.
func TestAPIErrorFunnel(t *testing.T) {
	cause := errors.New("database is on fire at /var/lib/x")
	tests := []struct {
		name       string
		err        error
		wantBody   string
		wantStatus int
		wantRetry  string
		wantLog    bool
	}{
		{"internal", &auth.Error{Code: auth.CodeInternal, Message: "something went wrong",
			Err: cause}, `{"error":{"code":"internal","message":"internal error"}}`, 500, "",
			true},
		{"plain error", fmt.Errorf("web: render: %w", cause),
			`{"error":{"code":"internal","message":"internal error"}}`, 500, "", true},
		{"busy", &auth.Error{Code: auth.CodeBusy, Message: "the server is busy", Err: cause},
			`{"error":{"code":"busy","message":"the server is busy"}}`, 503, "", true},
		{"throttled", &auth.Error{Code: auth.CodeThrottled, Message: "wait",
			RetryAfter: 1500 * time.Millisecond},
			`{"error":{"code":"throttled","message":"wait","retry_after_seconds":2}}`,
			429, "2", false},
		{"clock offset", &auth.Error{Code: auth.CodeInvalidCode, Message: "clock",
			ClockOffset: -90 * time.Second},
			`{"error":{"code":"invalid_code","message":"clock","clock_offset_seconds":-90}}`,
			401, "", false},
		{"too large", &http.MaxBytesError{Limit: 10},
			`{"error":{"code":"request_too_large","message":"the request is too large"}}`,
			413, "", false},
		{"wrapped", fmt.Errorf("op: %w", auth.Errorf(auth.CodeNotFound, "gone")),
			`{"error":{"code":"not_found","message":"gone"}}`, 404, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &syncBuffer{}
			s := &Server{log: slog.New(slog.NewJSONHandler(logs, nil))}
			w := httptest.NewRecorder()
			s.apiError(w, httptest.NewRequest("GET", "/api/v1/account", nil), tt.err)
			if w.Code != tt.wantStatus || strings.TrimSpace(w.Body.String()) != tt.wantBody {
				t.Fatalf("got %d %s, want %d %s", w.Code, w.Body, tt.wantStatus, tt.wantBody)
			}
			if got := w.Header().Get("Retry-After"); got != tt.wantRetry {
				t.Fatalf("got Retry-After %q, want %q", got, tt.wantRetry)
			}
			if got := strings.Contains(logs.String(), "database is on fire"); got != tt.wantLog {
				t.Fatalf("got cause logged %v, want %v (logs %s)", got, tt.wantLog, logs)
			}
		})
	}
}

// TestClientGoneIsNoServerError: a request cancelled because its client
// hung up is answered, logged and counted as 499, not 500, and its cause
// is no error in the log; the same error on a request still open answers
// 500.
func TestClientGoneIsNoServerError(t *testing.T) {
	err := &auth.Error{Code: auth.CodeInternal, Message: "something went wrong",
		Err: fmt.Errorf("login: %w", context.Canceled)}
	for _, gone := range []bool{true, false} {
		logs := &syncBuffer{}
		s := &Server{log: slog.New(slog.NewJSONHandler(logs, nil))}
		r := httptest.NewRequest("POST", "/api/v1/login", nil)
		want := 500
		if gone {
			ctx, cancel := context.WithCancel(r.Context())
			cancel()
			r, want = r.WithContext(ctx), 499
		}
		w := httptest.NewRecorder()
		s.apiError(w, r, err)
		if w.Code != want {
			t.Errorf("client gone %t: status %d, want %d", gone, w.Code, want)
		}
		if gone && strings.Contains(logs.String(), `"level":"ERROR"`) {
			t.Errorf("client gone: logged as an error (%s)", logs)
		}
	}
}
