package web

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/clientarea/clientarea/internal/auth"
)

// codeTooLarge is the web layer's own error code: the service never sees
// a body that did not fit.
const codeTooLarge auth.Code = "request_too_large"

// statusClientClosed is the status logged and counted for a request whose
// client hung up before the answer: nginx's 499, which no client sees.
const statusClientClosed = 499

// internalMessage is all a customer learns of an unexpected failure.
const internalMessage = "internal error"

// statusOf maps every error code to its HTTP status, in this one place.
// A code missing here is treated as internal.
func statusOf(code auth.Code) int {
	switch code {
	case auth.CodeInvalidInput, auth.CodeInvalidCodeFormat:
		return http.StatusBadRequest
	case auth.CodeInvalidCredentials, auth.CodeInvalidCode, auth.CodeUnauthenticated:
		return http.StatusUnauthorized
	case auth.CodeForbidden, auth.CodeReauthenticate:
		return http.StatusForbidden
	case auth.CodeNotFound:
		return http.StatusNotFound
	case auth.CodeConflict:
		return http.StatusConflict
	case codeTooLarge:
		return http.StatusRequestEntityTooLarge
	case auth.CodeLocked:
		return http.StatusLocked
	case auth.CodeThrottled:
		return http.StatusTooManyRequests
	case auth.CodeBusy:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// failure is what a customer may be told about a failed request: a status,
// a code, and a message safe to show. It never carries the cause.
type failure struct {
	Status  int
	Code    auth.Code
	Message string
	// RetryAfter is set for throttled requests; fail has already sent it
	// as the Retry-After header.
	RetryAfter time.Duration
	// ClockOffset is the phone's clock error guessed from a wrong
	// enrolment code, when the service found one.
	ClockOffset time.Duration
}

// fail is the error funnel for pages and API alike. It turns err into a
// failure, logs the cause of internal errors (never showing it), and sets
// Retry-After on w for throttled requests. It writes no status or body:
// apiError does that for the API, the page handlers render their own.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) failure {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return failure{Status: http.StatusRequestEntityTooLarge, Code: codeTooLarge,
			Message: "the request is too large"}
	}
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The client went away: nobody reads the answer, and it is no
		// fault of the server's, which a 500 would tell the access log
		// and the metrics.
		s.logCause(r, slog.LevelInfo, err)
		return failure{Status: statusClientClosed, Code: auth.CodeInternal,
			Message: "the request was cancelled"}
	}
	var ae *auth.Error
	if !errors.As(err, &ae) || statusOf(ae.Code) == http.StatusInternalServerError {
		s.logCause(r, slog.LevelError, err)
		return failure{Status: http.StatusInternalServerError, Code: auth.CodeInternal,
			Message: internalMessage}
	}
	if ae.Code == auth.CodeBusy {
		// Busy is an answer, not a bug, but an operator wants to see it.
		s.logCause(r, slog.LevelWarn, err)
	}
	f := failure{Status: statusOf(ae.Code), Code: ae.Code, Message: ae.Message,
		RetryAfter: ae.RetryAfter, ClockOffset: ae.ClockOffset}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(seconds(f.RetryAfter), 10))
	}
	return f
}

// apiError answers err as {"error": {"code": ..., "message": ...}}.
func (s *Server) apiError(w http.ResponseWriter, r *http.Request, err error) {
	f := s.fail(w, r, err)
	body := apiErrorBody{Code: f.Code, Message: f.Message}
	if f.RetryAfter > 0 {
		body.RetryAfter = seconds(f.RetryAfter)
	}
	if f.ClockOffset != 0 {
		off := int64(f.ClockOffset / time.Second)
		body.ClockOffset = &off
	}
	writeJSON(w, f.Status, map[string]apiErrorBody{"error": body})
}

type apiErrorBody struct {
	Code        auth.Code `json:"code"`
	Message     string    `json:"message"`
	RetryAfter  int64     `json:"retry_after_seconds,omitempty"`
	ClockOffset *int64    `json:"clock_offset_seconds,omitempty"`
}

// logCause logs an error's cause with the request it belongs to. Causes
// come from the service and the store, which keep secrets out of them.
func (s *Server) logCause(r *http.Request, level slog.Level, err error) {
	ctx := r.Context()
	if errors.Is(err, context.Canceled) {
		level = slog.LevelInfo // the client went away; nothing is broken
	}
	s.log.LogAttrs(ctx, level, "request failed", slog.String("request_id", requestIDFrom(ctx)),
		slog.String("method", r.Method), slog.String("route", r.Pattern), slog.Any("err", err))
}

// writeJSON sends v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, internalMessage, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// seconds rounds d up to whole seconds, at least one, for Retry-After.
func seconds(d time.Duration) int64 {
	return max(int64((d+time.Second-1)/time.Second), 1)
}
