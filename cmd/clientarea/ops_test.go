package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/clientarea/clientarea/internal/config"
	"github.com/clientarea/clientarea/internal/oathtool"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestHealthReadyMetrics(t *testing.T) {
	ts := startServer(t, nil, nil)
	if status, body := get(t, ts.URL+"/healthz"); status != 200 {
		t.Errorf("/healthz: got %d %q", status, body)
	}
	if status, body := get(t, ts.URL+"/readyz"); status != 200 {
		t.Errorf("/readyz: got %d %q", status, body)
	}
	enrol(t, ts, ts.client(t), alice)
	status, body := get(t, ts.URL+"/metrics")
	if status != 200 {
		t.Fatalf("/metrics: got %d", status)
	}
	for _, want := range []string{
		`clientarea_http_requests_total{route="POST /api/v1/login",status="200"} 1`,
		`clientarea_signins_total{outcome="signed_in"} 1`,
		`clientarea_enrolments_total{outcome="activated"} 1`,
		"clientarea_build_info{",
		"clientarea_active_sessions 1",
		"clientarea_password_hash_queue_wait_seconds_count",
		"go_sql_open_connections",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestMetricsOnSeparateAddress(t *testing.T) {
	ts := startServer(t, nil, nil, "--metrics-addr", "127.0.0.1:0")
	if status, _ := get(t, ts.URL+"/metrics"); status == 200 {
		t.Error("/metrics is served on the main address although --metrics-addr is set")
	}
	logs := ts.Logs.String()
	i := strings.Index(logs, `"msg":"metrics listening","addr":"`)
	if i < 0 {
		t.Fatalf("no metrics address in the log:\n%s", logs)
	}
	addr := logs[i+len(`"msg":"metrics listening","addr":"`):]
	addr = addr[:strings.IndexByte(addr, '"')]
	if status, body := get(t, "http://"+addr+"/metrics"); status != 200 ||
		!strings.Contains(body, "clientarea_build_info") {
		t.Errorf("metrics address: got %d", status)
	}
	// The metrics address serves nothing else: a health check aimed at it
	// by mistake must fail, not find metrics on every path.
	for _, path := range []string{"/", "/healthz", "/metrics/x"} {
		if status, _ := get(t, "http://"+addr+path); status != 404 {
			t.Errorf("metrics address %s: got %d, want 404", path, status)
		}
	}
}

func TestServeCheck(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"serve", "--check", "--data", dir},
		fastHashing...), sys{getenv: func(string) string { return "" }, stdout: &out, stderr: &errb})
	if code != 0 {
		t.Fatalf("serve --check: exit %d: %s", code, errb.String())
	}
	code = run(context.Background(), []string{"serve", "--check", "--log-format", "xml"},
		sys{getenv: func(string) string { return "" }, stdout: &out, stderr: &errb})
	if code == 0 || !strings.Contains(errb.String(), "log-format") {
		t.Fatalf("serve --check with a bad setting: exit %d: %s", code, errb.String())
	}
}

// TestKeyMismatch starts a database with one key and then with another:
// the second start must refuse, saying why, instead of failing sign-ins.
func TestKeyMismatch(t *testing.T) {
	dir := t.TempDir()
	check := func(key string) (int, string) {
		var out, errb bytes.Buffer
		env := map[string]string{"CLIENTAREA_SECRET_KEY": key}
		code := run(context.Background(), []string{"serve", "--check", "--data", dir},
			sys{getenv: func(k string) string { return env[k] }, stdout: &out, stderr: &errb})
		return code, errb.String()
	}
	first, second := randomKey(t), randomKey(t)
	if code, stderr := check(first); code != 0 {
		t.Fatalf("first start: %s", stderr)
	}
	code, stderr := check(second)
	if code == 0 || !strings.Contains(stderr, "does not match") {
		t.Fatalf("start with another key: exit %d, %q", code, stderr)
	}
	if strings.Contains(stderr, first) || strings.Contains(stderr, second) {
		t.Fatal("the error message shows a key")
	}
	if code, stderr := check("abc"); code == 0 || strings.Contains(stderr, "abc") {
		t.Fatalf("malformed key: exit %d, %q", code, stderr)
	}
}

func randomKey(t *testing.T) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// TestDatabaseRevealsNoSecret reads the raw database file after an
// enrolment: neither the Base32 secret nor its bytes, nor a recovery code,
// may be in it.
func TestDatabaseRevealsNoSecret(t *testing.T) {
	ts := startServer(t, nil, nil)
	c := ts.client(t)
	c.must(201, "POST", "/api/v1/signup", map[string]string{"email": alice, "password": alicePW})
	c.must(200, "POST", "/api/v1/login", map[string]string{"email": alice, "password": alicePW})
	pending := c.must(200, "POST", "/api/v1/account/2fa/setup", nil)
	secret, recovery, _ := str(pending["secret"]), []string(nil), ""
	code := oathtool.TOTP(t, secret, ts.Clock.Now())
	for _, v := range c.must(200, "POST", "/api/v1/account/2fa/enable",
		map[string]string{"code": code})["recovery_codes"].([]any) {
		recovery = append(recovery, v.(string))
	}
	backup := filepath.Join(t.TempDir(), "copy.db")
	if code, _, stderr := ts.cli(t, "", "admin", "backup", "--to", backup); code != 0 {
		t.Fatal(stderr)
	}
	db, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	raw := mustBase32(t, secret)
	needles := map[string][]byte{"secret": []byte(secret), "secret bytes": raw,
		"password": []byte(alicePW)}
	for i, r := range recovery {
		needles["recovery code "+str(i)] = []byte(r)
		needles["recovery code plain "+str(i)] = []byte(strings.ReplaceAll(r, "-", ""))
	}
	for name, n := range needles {
		if bytes.Contains(db, n) {
			t.Errorf("the database file holds the %s", name)
		}
	}
}

// TestRotateKey rotates the key file while the server runs: sign-in goes
// on working, and afterwards the old key is gone from the file.
func TestRotateKey(t *testing.T) {
	ts := startServer(t, nil, nil)
	secret, _, _ := enrol(t, ts, ts.client(t), alice)
	keyFile := filepath.Join(ts.Data, "secret.key")
	before, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := ts.cli(t, "", "admin", "rotate-key", "--grace", "10ms")
	if code != 0 {
		t.Fatalf("rotate-key: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "re-encrypted secrets: 1,") {
		t.Errorf("rotate-key output: %q", stdout)
	}
	after, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if oldKey := keyLine(before); strings.Contains(string(after), oldKey) {
		t.Error("the old key is still in the key file after rotation")
	}
	// The running server follows the new key without a restart.
	ts.Clock.Add(time.Minute)
	c := ts.client(t)
	signIn(t, c, alice)
	c.must(200, "POST", "/api/v1/login/totp",
		map[string]string{"code": oathtool.TOTP(t, secret, ts.Clock.Now())})
	// So does a fresh start, which checks the key against the database.
	if code, _, stderr := ts.cli(t, "", "serve", "--check"); code != 0 {
		t.Fatalf("serve --check after rotation: %s", stderr)
	}
}

func keyLine(file []byte) string {
	for _, l := range strings.Split(string(file), "\n") {
		if len(strings.TrimSpace(l)) == 64 && !strings.HasPrefix(l, "#") {
			return strings.TrimSpace(l)
		}
	}
	return "no key line"
}

// TestGracefulShutdown cancels the server's context, as SIGTERM does, and
// expects a clean exit and a database that opens again.
func TestGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan int, 1)
	logs := &syncBuffer{}
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--data", dir},
			fastHashing...), sys{getenv: func(string) string { return "" }, stdout: logs,
			stderr: logs, ready: func(a string) { ready <- a }})
	}()
	addr := <-ready
	if status, _ := get(t, "http://"+addr+"/healthz"); status != 200 {
		t.Fatalf("healthz: %d", status)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d after shutdown:\n%s", code, logs.String())
	}
	if !strings.Contains(logs.String(), "stopped") {
		t.Errorf("no shutdown in the log:\n%s", logs.String())
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("the server still answers after shutdown")
	}
}

// TestMemoryLimit: the server sets the runtime's soft memory limit from
// --memory-limit and a 400% GC target under it, and leaves each alone when
// the operator set GOMEMLIMIT or GOGC.
func TestMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	gcBefore := debug.SetGCPercent(100)
	debug.SetGCPercent(gcBefore)
	t.Cleanup(func() {
		debug.SetMemoryLimit(before)
		debug.SetGCPercent(gcBefore)
	})
	log := slog.New(slog.DiscardHandler)
	env := map[string]string{}
	s := sys{getenv: func(name string) string { return env[name] }}

	setMemoryLimit(150, s, log)
	if got := debug.SetMemoryLimit(-1); got != 150<<20 {
		t.Errorf("limit with --memory-limit 150: got %d, want %d", got, 150<<20)
	}
	if got := debug.SetGCPercent(gcBefore); got != 400 {
		t.Errorf("GC target under the limit: got %d%%, want 400%%", got)
	}
	debug.SetMemoryLimit(before)
	env["GOGC"] = "100"
	setMemoryLimit(150, s, log)
	if got := debug.SetGCPercent(gcBefore); got != gcBefore {
		t.Errorf("GC target with GOGC set: got %d%%, want it untouched (%d%%)", got, gcBefore)
	}
	debug.SetMemoryLimit(before)
	env["GOMEMLIMIT"] = "1GiB"
	setMemoryLimit(150, s, log)
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("limit with GOMEMLIMIT set: got %d, want it untouched (%d)", got, before)
	}
	if d := config.Defaults().MemoryLimitMiB; d != 150 {
		t.Errorf("default --memory-limit: got %d MiB, want 150", d)
	}
}
