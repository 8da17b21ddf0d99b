package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clientarea/clientarea/internal/auth"
)

// stepClock advances by step at every reading, so a request seen through
// it takes exactly step.
type stepClock struct {
	mu   sync.Mutex
	now  time.Time
	step time.Duration
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(c.step)
	return c.now
}

// observation is one call of HTTPMetrics.ObserveRequest.
type observation struct {
	route  string
	status int
	d      time.Duration
}

// recorder is an HTTPMetrics that keeps what it is told.
type recorder struct {
	mu  sync.Mutex
	obs []observation
}

func (r *recorder) ObserveRequest(route string, status int, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.obs = append(r.obs, observation{route, status, d})
}

func (r *recorder) all() []observation {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]observation(nil), r.obs...)
}

func TestRequestID(t *testing.T) {
	random := bytes.NewReader(bytes.Repeat([]byte{0xab}, 12))
	var seen string
	h := requestID(random)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = requestIDFrom(r.Context())
	}))
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Request-Id", "forged\nline")
	h.ServeHTTP(w, r)
	want := "abababababababababababab"
	if got := w.Header().Get("X-Request-Id"); got != want || seen != want {
		t.Fatalf("got header %q and context %q, want %q", got, seen, want)
	}

	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil)) // the reader is empty now
	if got := w.Header().Get("X-Request-Id"); got != "-" {
		t.Fatalf("got id %q from a failing random source, want -", got)
	}
}

// logLine parses the one JSON log line in logs.
func logLine(t *testing.T, logs string) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(logs), "\n")
	if len(lines) != 1 {
		t.Fatalf("got %d log lines, want 1: %s", len(lines), logs)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatalf("log line %q: %v", lines[0], err)
	}
	return m
}

func TestAccessLog(t *testing.T) {
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	clk := &stepClock{now: t0, step: 250 * time.Millisecond}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /password/reset", func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		w.WriteHeader(http.StatusTeapot)
	})
	ip := func(*http.Request) string { return "198.51.100.7" }
	h := requestID(bytes.NewReader(make([]byte, 12)))(accessLog(log, clk.Now, ip)(mux))

	r := httptest.NewRequest("POST", "/password/reset?token=TOKENinQUERY",
		strings.NewReader("password=BODYsecret"))
	r.Header.Set("Cookie", SessionCookie+"=COOKIEvalue")
	h.ServeHTTP(httptest.NewRecorder(), r)

	got := logLine(t, logs.String())
	want := map[string]any{"msg": "request", "method": "POST", "route": "POST /password/reset",
		"path": "/password/reset", "status": 418.0, "duration_ms": 250.0,
		"request_id": "000000000000000000000000", "ip": "198.51.100.7"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("got %s %v, want %v", k, got[k], v)
		}
	}
	for _, secret := range []string{"TOKENinQUERY", "BODYsecret", "COOKIEvalue"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the access log holds %q", secret)
		}
	}
}

func TestObserve(t *testing.T) {
	rec := &recorder{}
	clk := &stepClock{now: t0, step: time.Second}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	})
	h := observe(rec, clk.Now)(mux)
	for _, path := range []string{"/items/42", "/items/43", "/random/path"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	want := []observation{{"GET /items/{id}", 201, time.Second},
		{"GET /items/{id}", 201, time.Second}, {"unmatched", 404, time.Second}}
	got := rec.all()
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("observation %d: got %v, want %v", i, got[i], want[i])
		}
	}
	if observe(nil, clk.Now)(mux) != mux {
		t.Error("observe without metrics should leave the handler as it is")
	}
}

func TestRecoverPanic(t *testing.T) {
	tests := []struct {
		name       string
		path       string
		handler    func(w http.ResponseWriter)
		wantStatus int
		wantBody   string
	}{
		{"api", "/api/v1/account", func(http.ResponseWriter) { panic("boom") }, 500,
			`{"error":{"code":"internal","message":"internal error"}}`},
		{"page", "/settings", func(http.ResponseWriter) { panic("boom") }, 500,
			"internal error"},
		{"after the header", "/settings", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusAccepted)
			panic("boom")
		}, 202, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &syncBuffer{}
			h := recoverPanic(slog.New(slog.NewJSONHandler(logs, nil)))(http.HandlerFunc(
				func(w http.ResponseWriter, r *http.Request) { tt.handler(w) }))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", tt.path, nil))
			if w.Code != tt.wantStatus || strings.TrimSpace(w.Body.String()) != tt.wantBody {
				t.Fatalf("got %d %q, want %d %q", w.Code, w.Body, tt.wantStatus, tt.wantBody)
			}
			line := logLine(t, logs.String())
			if line["msg"] != "panic" || line["panic"] != "boom" || line["stack"] == "" {
				t.Fatalf("got log %v, want the panic with its stack", line)
			}
		})
	}
}

func TestRecoverPanicAbort(t *testing.T) {
	h := recoverPanic(slog.New(slog.DiscardHandler))(http.HandlerFunc(
		func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }))
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Fatalf("got %v, want http.ErrAbortHandler to go on up", v)
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}

func TestSecurityHeaders(t *testing.T) {
	h := securityHeaders(false)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if hsts := w.Header().Get("Strict-Transport-Security"); hsts != "" {
		t.Errorf("plain HTTP got Strict-Transport-Security %q", hsts)
	}
	for _, tt := range []struct {
		name   string
		secure bool
		target string
	}{{"behind a TLS proxy", true, "http://x.test/"}, {"served over TLS", false, "https://x.test/"}} {
		w := httptest.NewRecorder()
		securityHeaders(tt.secure)(http.NotFoundHandler()).ServeHTTP(w,
			httptest.NewRequest("GET", tt.target, nil))
		if got := w.Header().Get("Strict-Transport-Security"); got != "max-age=31536000" {
			t.Errorf("%s: got Strict-Transport-Security %q", tt.name, got)
		}
	}
	want := map[string]string{
		"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; " +
			"style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; " +
			"form-action 'self'",
		"Referrer-Policy":        "no-referrer",
		"X-Content-Type-Options": "nosniff",
		"Cache-Control":          "no-store",
	}
	for k, v := range want {
		if got := w.Header().Get(k); got != v {
			t.Errorf("got %s %q, want %q", k, got, v)
		}
	}
}

func TestLimitBody(t *testing.T) {
	tests := []struct {
		name       string
		body       io.Reader
		length     int64
		wantStatus int
		wantRead   string
		wantCalled bool
	}{
		{"under", strings.NewReader("0123456789"), 10, 200, "0123456789", true},
		{"declared over", strings.NewReader("0123456789ab"), 12, 413, "", false},
		{"chunked over", strings.NewReader("0123456789ab"), -1, 413, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			called, read := false, ""
			h := limitBody(10)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				called = true
				b, err := io.ReadAll(r.Body)
				var tooLarge *http.MaxBytesError
				if errors.As(err, &tooLarge) {
					w.WriteHeader(http.StatusRequestEntityTooLarge)
					return
				}
				read = string(b)
			}))
			r := httptest.NewRequest("POST", "/api/v1/login", tt.body)
			r.ContentLength = tt.length
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.wantStatus || read != tt.wantRead || called != tt.wantCalled {
				t.Fatalf("got %d, read %q, called %v; want %d, %q, %v", w.Code, read, called,
					tt.wantStatus, tt.wantRead, tt.wantCalled)
			}
		})
	}
}

func TestCrossOrigin(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		headers map[string]string
		want    int
	}{
		{"cross-site POST", "POST", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"same-site POST", "POST", map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
		{"same-origin POST", "POST", map[string]string{"Sec-Fetch-Site": "same-origin"}, 204},
		{"typed address", "POST", map[string]string{"Sec-Fetch-Site": "none"}, 204},
		{"foreign Origin", "POST", map[string]string{"Origin": "https://evil.example"}, 403},
		{"foreign Origin DELETE", "DELETE",
			map[string]string{"Origin": "https://evil.example"}, 403},
		{"own Origin", "POST", map[string]string{"Origin": "http://area.example"}, 204},
		{"API client without either", "POST", nil, 204},
		{"cross-site GET", "GET", map[string]string{"Sec-Fetch-Site": "cross-site"}, 204},
	}
	s := &Server{log: slog.New(slog.DiscardHandler)}
	h := crossOrigin(http.HandlerFunc(s.denyCrossOrigin))(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "http://area.example/api/v1/logout", nil)
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Fatalf("got %d, want %d", w.Code, tt.want)
			}
			if tt.want == 403 && !strings.Contains(w.Body.String(), `"code":"forbidden"`) {
				t.Fatalf("got body %s, want a forbidden error", w.Body)
			}
		})
	}
}

func TestClientIP(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("::1/128")}
	tests := []struct {
		name   string
		remote string
		xff    []string
		want   string
	}{
		{"direct", "203.0.113.5:4000", nil, "203.0.113.5"},
		{"direct ignores the header", "203.0.113.5:4000", []string{"1.2.3.4"}, "203.0.113.5"},
		{"one proxy", "10.0.0.2:80", []string{"203.0.113.9"}, "203.0.113.9"},
		{"forged left part", "10.0.0.2:80", []string{"1.1.1.1, 203.0.113.9"}, "203.0.113.9"},
		{"two proxies", "10.0.0.2:80", []string{"203.0.113.9, 10.0.0.7"}, "203.0.113.9"},
		{"two header lines", "10.0.0.2:80", []string{"1.1.1.1", "203.0.113.9"}, "203.0.113.9"},
		{"garbage from proxy", "10.0.0.2:80", []string{"not-an-ip"}, "10.0.0.2"},
		{"all trusted", "10.0.0.2:80", []string{"10.0.0.3"}, "10.0.0.3"},
		{"no header", "10.0.0.2:80", nil, "10.0.0.2"},
		{"IPv6 proxy", "[::1]:80", []string{"2001:db8::1"}, "2001:db8::1"},
		{"IPv4 in IPv6", "[::ffff:203.0.113.5]:80", nil, "203.0.113.5"},
	}
	s := &Server{proxies: proxies}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := s.clientIP(r); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestChain runs the middleware in the real server: the route pattern
// reaches the log and the metrics through every layer.
func TestChain(t *testing.T) {
	rec := &recorder{}
	e := newEnvWith(t, func(_ *auth.Config, c *Config) { c.Metrics = rec })
	c := e.client()
	got := c.call("GET", "/api/v1/account", nil)
	got.want(t, http.StatusUnauthorized, "unauthenticated")
	if id := got.header.Get("X-Request-Id"); len(id) != 24 {
		t.Fatalf("got X-Request-Id %q, want 24 hex digits", id)
	}
	if got.header.Get("Content-Security-Policy") != contentSecurityPolicy {
		t.Fatalf("the API answer lacks the Content-Security-Policy")
	}
	line := `"route":"GET /api/v1/account","path":"/api/v1/account","status":401`
	if !strings.Contains(e.logs.String(), line) {
		t.Fatalf("the access log lacks the route and status: %s", e.logs)
	}
	obs := rec.all()
	if len(obs) != 1 || obs[0].route != "GET /api/v1/account" || obs[0].status != 401 {
		t.Fatalf("got metrics %v, want one GET /api/v1/account 401", obs)
	}

	for _, h := range []http.Header{{"Sec-Fetch-Site": {"cross-site"}},
		{"Origin": {"https://evil.example"}}} {
		h.Set("Content-Type", "application/json")
		c.raw("POST", "/api/v1/signup", h, strings.NewReader(`{}`)).
			want(t, http.StatusForbidden, "forbidden")
	}
	big := c.raw("POST", "/api/v1/signup", http.Header{"Content-Type": {"application/json"}},
		strings.NewReader(strings.Repeat(" ", DefaultMaxBodyBytes+1)))
	big.want(t, http.StatusRequestEntityTooLarge, "request_too_large")
}
