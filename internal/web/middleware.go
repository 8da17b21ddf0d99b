package web

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/clientarea/clientarea/internal/auth"
)

// contentSecurityPolicy allows nothing inline and nothing from elsewhere:
// an injected script has nowhere to run from. data: images carry no script.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; " +
	"script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// chain wraps h in the middleware, outermost first. Only requestID replaces
// the request (to add its id to the context); every layer inside it shares
// the request that ServeMux writes the matched pattern into, which is how
// accessLog and observe learn the route after the handler returns.
func (s *Server) chain(h http.Handler) http.Handler {
	layers := []func(http.Handler) http.Handler{
		requestID(s.rand),
		accessLog(s.log, s.now, s.clientIP),
		observe(s.metrics, s.now),
		recoverPanic(s.log),
		securityHeaders(s.secure),
		limitBody(s.maxBody),
		crossOrigin(http.HandlerFunc(s.denyCrossOrigin)),
	}
	for i := len(layers) - 1; i >= 0; i-- {
		h = layers[i](h)
	}
	return h
}

type requestIDKey struct{}

// requestID gives every request a random id, sent back as X-Request-Id and
// kept in the context for the logs. An id sent by the client is ignored:
// it would let anyone write into our logs.
func requestID(rand io.Reader) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b := make([]byte, 12)
			id := "-"
			if _, err := io.ReadFull(rand, b); err == nil {
				id = hex.EncodeToString(b)
			}
			w.Header().Set("X-Request-Id", id)
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
		})
	}
}

// requestIDFrom returns the request id in ctx, or "".
func requestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// accessLog writes one line per request. It logs the route pattern and the
// path, never the query string (reset and confirmation links carry their
// token there), and never a body or a cookie.
func accessLog(log *slog.Logger, now func() time.Time,
	ip func(*http.Request) string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := now()
			sw := recordStatus(w)
			next.ServeHTTP(sw, r)
			log.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", r.Method), slog.String("route", r.Pattern),
				slog.String("path", r.URL.Path), slog.Int("status", sw.status()),
				slog.Float64("duration_ms", float64(now().Sub(start).Microseconds())/1000),
				slog.String("request_id", requestIDFrom(r.Context())), slog.String("ip", ip(r)))
		})
	}
}

// observe reports every request to m under its route pattern, so that a
// scan of random paths cannot grow the metrics without bound. Requests
// refused before routing (cross-origin, declared body too large) count as
// "unmatched", like paths with no route.
func observe(m HTTPMetrics, now func() time.Time) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if m == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := now()
			sw := recordStatus(w)
			next.ServeHTTP(sw, r)
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			m.ObserveRequest(route, sw.status(), now().Sub(start))
		})
	}
}

// recoverPanic turns a panic into a generic 500 and a log line with the
// stack, so that one bad request neither kills the connection silently
// nor shows the customer anything of the program.
func recoverPanic(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sw := recordStatus(w)
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if v == http.ErrAbortHandler {
					panic(v) // the server's own way to drop a connection
				}
				log.LogAttrs(r.Context(), slog.LevelError, "panic",
					slog.String("request_id", requestIDFrom(r.Context())),
					slog.String("route", r.Pattern), slog.String("panic", fmt.Sprint(v)),
					slog.String("stack", string(debug.Stack())))
				if !sw.wrote {
					writeError(sw, r, http.StatusInternalServerError, auth.CodeInternal,
						internalMessage)
				}
			}()
			next.ServeHTTP(sw, r)
		})
	}
}

// securityHeaders sets the headers every answer carries. Cache-Control:
// no-store keeps secrets, recovery codes and account pages out of every
// cache; a handler serving static assets may overwrite it. Over HTTPS
// (served directly, or behind a TLS proxy when secure is set) HSTS tells
// browsers never to try plain HTTP, where a session cookie could be seen.
func securityHeaders(secure bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Security-Policy", contentSecurityPolicy)
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Cache-Control", "no-store")
			if secure || r.TLS != nil {
				h.Set("Strict-Transport-Security", "max-age=31536000")
			}
			next.ServeHTTP(w, r)
		})
	}
}

// limitBody bounds request bodies to n bytes. A declared length over the
// limit is refused before the handler runs; a body that grows past it
// while being read fails the read with *http.MaxBytesError, which fail
// maps to 413.
func limitBody(n int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > n {
				writeError(w, r, http.StatusRequestEntityTooLarge, codeTooLarge,
					"the request is too large")
				return
			}
			// The body is replaced in place rather than on a copy of the
			// request, so the outer layers still see the matched pattern.
			r.Body = http.MaxBytesReader(w, r.Body, n)
			next.ServeHTTP(w, r)
		})
	}
}

// crossOrigin refuses state-changing requests that a browser marks as
// coming from another site (Sec-Fetch-Site, else Origin against Host).
// Requests without either header, as API clients send them, pass: they
// carry no ambient browser cookies an attacker could borrow.
func crossOrigin(deny http.Handler) func(http.Handler) http.Handler {
	p := http.NewCrossOriginProtection()
	p.SetDenyHandler(deny)
	return p.Handler
}

func (s *Server) denyCrossOrigin(w http.ResponseWriter, r *http.Request) {
	s.log.LogAttrs(r.Context(), slog.LevelWarn, "cross-origin request refused",
		slog.String("request_id", requestIDFrom(r.Context())), slog.String("method", r.Method),
		slog.String("path", r.URL.Path), slog.String("ip", s.clientIP(r)))
	writeError(w, r, http.StatusForbidden, auth.CodeForbidden,
		"this request came from another site and was refused")
}

// writeError answers an error from the middleware: JSON under /api/, plain
// text for pages.
func writeError(w http.ResponseWriter, r *http.Request, status int, code auth.Code, msg string) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeJSON(w, status, map[string]apiErrorBody{"error": {Code: code, Message: msg}})
		return
	}
	http.Error(w, msg, status)
}

// statusWriter remembers the status a handler sent.
type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

// recordStatus wraps w, or returns it when it already records.
func recordStatus(w http.ResponseWriter) *statusWriter {
	if sw, ok := w.(*statusWriter); ok {
		return sw
	}
	return &statusWriter{ResponseWriter: w}
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote && code >= 200 {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.code, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) status() int {
	if !w.wrote {
		return http.StatusOK
	}
	return w.code
}
