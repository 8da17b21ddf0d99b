package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clientarea/clientarea/internal/auth"
	"github.com/clientarea/clientarea/internal/mail"
	"github.com/clientarea/clientarea/internal/oathtool"
	"github.com/clientarea/clientarea/internal/password"
	"github.com/clientarea/clientarea/internal/seal"
	"github.com/clientarea/clientarea/internal/store"
	"github.com/clientarea/clientarea/internal/storetest"
)

// t0 is T0 of shared/cases/README.md: Unix 1700000010, the first second
// of step 56666667.
var t0 = time.Unix(1700000010, 0).UTC()

// testPassword is long enough for CheckPassword.
const testPassword = "correct horse battery"

// syncBuffer is a bytes.Buffer safe for the concurrent writes of handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// env is one client area on a real SQLite database behind a real HTTP
// listener on loopback.
type env struct {
	t      *testing.T
	svc    *auth.Service
	server *Server
	http   *httptest.Server
	clock  *storetest.Clock
	outbox string
	logs   *syncBuffer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, func(*auth.Config, *Config) {})
}

// newEnvWith lets a test change the service and server configuration
// before they are built.
func newEnvWith(t *testing.T, change func(*auth.Config, *Config)) *env {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "db.sqlite"), store.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	keys, err := seal.NewKeyring(seal.Key{1, 2, 3})
	if err != nil {
		t.Fatalf("keyring: %v", err)
	}
	e := &env{t: t, clock: storetest.NewClock(t0), outbox: t.TempDir(), logs: &syncBuffer{}}
	logger := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	policy := auth.DefaultPolicy()
	policy.SignupsPerIP = 1000 // every test client signs up from 127.0.0.1
	params := password.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}
	acfg := auth.Config{Store: st, Hasher: password.NewHasher(params, 8, 30*time.Second),
		Keyring: keys, Issuer: "Acme Client Area", BaseURL: "http://127.0.0.1",
		Mailer: &mail.Outbox{Dir: e.outbox, From: "area@example.com", Now: e.clock.Now},
		Policy: policy, Logger: logger, Now: e.clock.Now}
	wcfg := Config{Logger: logger, Now: e.clock.Now}
	change(&acfg, &wcfg)
	if e.svc, err = auth.NewService(acfg); err != nil {
		t.Fatalf("new service: %v", err)
	}
	wcfg.Service = e.svc
	if e.server, err = New(wcfg); err != nil {
		t.Fatalf("new server: %v", err)
	}
	e.http = httptest.NewServer(e.server.Handler())
	t.Cleanup(e.http.Close)
	return e
}

// client is one browser or API client with its own cookie jar.
type client struct {
	t   *testing.T
	env *env
	c   *http.Client
}

func (e *env) client() *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatalf("cookie jar: %v", err)
	}
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &client{t: e.t, env: e, c: &http.Client{Jar: jar, CheckRedirect: noRedirect}}
}

// answer is a response read in full.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a map, failing the test if it is not JSON.
func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", a.body, err)
	}
	return m
}

// errorCode returns error.code of an error answer.
func (a answer) errorCode(t *testing.T) string {
	t.Helper()
	e, ok := a.json(t)["error"].(map[string]any)
	if !ok {
		t.Fatalf("body %s has no error object", a.body)
	}
	code, _ := e["code"].(string)
	return code
}

// call sends body (nil for none, a string as it is, anything else as
// JSON) with Content-Type: application/json.
func (c *client) call(method, path string, body any) answer {
	c.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.t.Fatalf("marshal: %v", err)
		}
		r = bytes.NewReader(j)
	}
	h := http.Header{}
	if body != nil {
		h.Set("Content-Type", "application/json")
	}
	return c.raw(method, path, h, r)
}

// raw sends a request with exactly the given headers and body.
func (c *client) raw(method, path string, h http.Header, body io.Reader) answer {
	c.t.Helper()
	req, err := http.NewRequest(method, c.env.http.URL+path, body)
	if err != nil {
		c.t.Fatalf("new request: %v", err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	res, err := c.c.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return answer{status: res.StatusCode, header: res.Header, body: b}
}

// want fails the test unless a has the status (and, for errors, the code).
func (a answer) want(t *testing.T, status int, code string) {
	t.Helper()
	if a.status != status {
		t.Fatalf("got status %d, want %d (body %s)", a.status, status, a.body)
	}
	if code != "" {
		if got := a.errorCode(t); got != code {
			t.Fatalf("got error code %q, want %q (body %s)", got, code, a.body)
		}
	}
}

// sessionCookie returns the session id the client holds, or "".
func (c *client) sessionCookie() string {
	u := c.env.http.URL + "/"
	req, _ := http.NewRequest("GET", u, nil)
	for _, ck := range c.c.Jar.Cookies(req.URL) {
		if ck.Name == SessionCookie {
			return ck.Value
		}
	}
	return ""
}

// signUp makes an account through the API and signs it in.
func (c *client) signUp(email string) {
	c.t.Helper()
	c.call("POST", "/api/v1/signup", map[string]string{"email": email, "password": testPassword}).
		want(c.t, http.StatusCreated, "")
	got := c.call("POST", "/api/v1/login",
		map[string]string{"email": email, "password": testPassword})
	got.want(c.t, http.StatusOK, "")
	if s := got.json(c.t)["status"]; s != "signed_in" {
		c.t.Fatalf("got login status %v, want signed_in", s)
	}
}

// enrol turns 2FA on for a signed-in client and returns the secret and
// the recovery codes.
func (c *client) enrol() (secret string, codes []string) {
	c.t.Helper()
	setup := c.call("POST", "/api/v1/account/2fa/setup", nil)
	setup.want(c.t, http.StatusOK, "")
	secret, _ = setup.json(c.t)["secret"].(string)
	got := c.call("POST", "/api/v1/account/2fa/enable",
		map[string]string{"code": oathtool.TOTP(c.t, secret, c.env.clock.Now())})
	got.want(c.t, http.StatusOK, "")
	var out struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	if err := json.Unmarshal(got.body, &out); err != nil {
		c.t.Fatalf("enable answer: %v", err)
	}
	return secret, out.RecoveryCodes
}
