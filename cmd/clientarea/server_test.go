package main

import (
	"bytes"
	"context"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clientarea/clientarea/internal/mail"
	"github.com/clientarea/clientarea/internal/storetest"
)

// t0 is the field cases' clock (shared/cases): the first second of step 56666667.
var t0 = time.Unix(1700000010, 0).UTC()

// syncBuffer collects the server's log lines from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testServer is the real program, started through run as main starts it.
type testServer struct {
	URL   string
	Data  string
	Clock *storetest.Clock
	Logs  *syncBuffer
	env   map[string]string
}

// fastHashing keeps argon2 cheap under the race detector; the defaults
// are tested in internal/password.
var fastHashing = []string{"--hash-memory", "64", "--hash-iterations", "1"}

// startServer runs `clientarea serve` on a free loopback port with a fresh
// data folder (unless env or args name another) and stops it at cleanup.
func startServer(t *testing.T, clk *storetest.Clock, env map[string]string, args ...string) *testServer {
	t.Helper()
	ts := &testServer{Data: t.TempDir(), Clock: clk, Logs: &syncBuffer{}, env: env}
	if clk == nil {
		ts.Clock = storetest.NewClock(t0)
	}
	// No memory limit: it would be the whole test process's, which holds
	// many servers at once (TestMemoryLimit tests it).
	argv := append([]string{"serve", "--addr", "127.0.0.1:0", "--data", ts.Data,
		"--log-format", "json", "--memory-limit", "0"}, fastHashing...)
	argv = append(argv, args...)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, argv, sys{getenv: ts.getenv, stdin: strings.NewReader(""),
			stdout: ts.Logs, stderr: ts.Logs, now: ts.Clock.Now,
			ready: func(addr string) { ready <- addr }})
	}()
	select {
	case addr := <-ready:
		ts.URL = "http://" + addr
	case code := <-done:
		cancel()
		t.Fatalf("serve exited with %d before listening:\n%s", code, ts.Logs.String())
	}
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited with %d:\n%s", code, ts.Logs.String())
		}
	})
	return ts
}

func (ts *testServer) getenv(name string) string { return ts.env[name] }

// cli runs one more command of the program against the server's data.
func (ts *testServer) cli(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	args = append(args, "--data", ts.Data)
	code = run(context.Background(), args, sys{getenv: ts.getenv, stdin: strings.NewReader(stdin),
		stdout: &out, stderr: &errb, now: ts.Clock.Now})
	return code, out.String(), errb.String()
}

// client is one browser or API client with its own cookies.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func (ts *testServer) client(t *testing.T) *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, base: ts.URL, http: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// call sends a JSON request and decodes a JSON answer (if any).
func (c *client) call(method, path string, body any) (int, map[string]any) {
	c.t.Helper()
	status, raw := c.raw(method, path, body)
	var out map[string]any
	if len(raw) > 0 && json.Valid(raw) {
		json.Unmarshal(raw, &out)
	}
	return status, out
}

func (c *client) raw(method, path string, body any) (int, []byte) {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, b
}

// must calls and fails the test unless the status is want.
func (c *client) must(want int, method, path string, body any) map[string]any {
	c.t.Helper()
	status, out := c.call(method, path, body)
	if status != want {
		c.t.Fatalf("%s %s: got status %d, want %d (%v)", method, path, status, want, out)
	}
	return out
}

// outbox returns the subject and text of every e-mail written so far.
func (ts *testServer) outbox(t *testing.T) []string {
	t.Helper()
	msgs, err := mail.ReadOutbox(filepath.Join(ts.Data, "outbox"))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.To + "\n" + m.Subject + "\n" + m.Text
	}
	return out
}

func str(v any) string { return fmt.Sprint(v) }

// eachDatabase runs fn once on SQLite and once on a fresh PostgreSQL
// database, giving the serve flags that select it.
func eachDatabase(t *testing.T, fn func(t *testing.T, args []string)) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		if dialect == storetest.SQLite {
			fn(t, nil)
			return
		}
		fn(t, []string{"--database-url", storetest.NewDatabase(t, dialect)})
	})
}

func mustBase32(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	if err != nil {
		t.Fatalf("decode secret: %v", err)
	}
	return b
}

// postForm posts an HTML form as a browser of the same origin does.
func postForm(t *testing.T, c *client, path string, form url.Values) int {
	t.Helper()
	req, err := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.base)
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestSecurityEventsCarryRequestID signs up and finds the security event
// of that request in the log under the id the answer's X-Request-Id gave.
func TestSecurityEventsCarryRequestID(t *testing.T) {
	ts := startServer(t, nil, nil)
	body := strings.NewReader(`{"email":"` + alice + `","password":"` + alicePW + `"}`)
	resp, err := http.Post(ts.URL+"/api/v1/signup", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := resp.Header.Get("X-Request-Id")
	if resp.StatusCode != 201 || id == "" {
		t.Fatalf("signup: %d, X-Request-Id %q", resp.StatusCode, id)
	}
	for line := range strings.Lines(ts.Logs.String()) {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "security event" &&
			rec["request_id"] == id {
			return
		}
	}
	t.Errorf("no security event with request_id %s in the log:\n%s", id, ts.Logs.String())
}
