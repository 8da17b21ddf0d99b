package web

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clientarea/clientarea/internal/oathtool"
	"github.com/clientarea/clientarea/internal/zbar"
)

// TestAPIJourney walks sign-up, enrolment through the served QR code,
// sign-out and the two-step sign-in, with codes from oathtool and the QR
// code read by zbarimg.
func TestAPIJourney(t *testing.T) {
	oathtool.Require(t)
	e := newEnv(t)
	c := e.client()
	c.signUp("alice@example.com")

	setup := c.call("POST", "/api/v1/account/2fa/setup", nil)
	setup.want(t, http.StatusOK, "")
	en := setup.json(t)
	secret, uri := en["secret"].(string), en["otpauth_uri"].(string)
	checkEnrolment(t, en, secret)
	again := c.call("POST", "/api/v1/account/2fa/setup", nil).json(t)
	if again["secret"] != secret {
		t.Fatalf("got a new secret on the second setup call, want the pending one again")
	}

	qr := c.call("GET", "/api/v1/account/2fa/setup/qr.png", nil)
	qr.want(t, http.StatusOK, "")
	if ct := qr.header.Get("Content-Type"); ct != "image/png" {
		t.Fatalf("got qr.png Content-Type %q, want image/png", ct)
	}
	if got := zbar.Decode(t, qr.body); got != uri {
		t.Fatalf("zbarimg read %q, want otpauth_uri %q", got, uri)
	}
	key := c.call("GET", "/api/v1/account/2fa/setup/key", nil)
	key.want(t, http.StatusOK, "")

	enrolCode := oathtool.TOTP(t, secret, e.clock.Now())
	enabled := c.call("POST", "/api/v1/account/2fa/enable", map[string]string{"code": enrolCode})
	enabled.want(t, http.StatusOK, "")
	codes := stringList(t, enabled.json(t)["recovery_codes"])
	if len(codes) != 10 {
		t.Fatalf("got %d recovery codes, want 10", len(codes))
	}
	for _, rc := range codes {
		if !strings.Contains(string(key.body), rc) {
			t.Fatalf("the key file lacks recovery code %q of the enable answer", rc)
		}
	}

	c.call("POST", "/api/v1/logout", nil).want(t, http.StatusNoContent, "")
	c.call("GET", "/api/v1/account", nil).want(t, http.StatusUnauthorized, "unauthenticated")

	e.clock.Add(30 * time.Second)
	login := c.call("POST", "/api/v1/login",
		map[string]string{"email": "alice@example.com", "password": testPassword})
	login.want(t, http.StatusOK, "")
	if s := login.json(t)["status"]; s != "second_factor_required" {
		t.Fatalf("got login status %v, want second_factor_required", s)
	}
	half := c.sessionCookie()
	checkHalfSessionLocked(t, c)

	code := oathtool.TOTP(t, secret, e.clock.Now())
	totp := c.call("POST", "/api/v1/login/totp", map[string]string{"code": code})
	totp.want(t, http.StatusOK, "")
	if s := totp.json(t)["status"]; s != "signed_in" {
		t.Fatalf("got status %v, want signed_in", s)
	}
	full := c.sessionCookie()
	if full == half || full == "" {
		t.Fatalf("the session id did not change at the second factor")
	}
	account := c.call("GET", "/api/v1/account", nil)
	account.want(t, http.StatusOK, "")
	tf := account.json(t)["two_factor"].(map[string]any)
	if tf["enabled"] != true || tf["pending"] != false || tf["recovery_codes_left"] != 10.0 {
		t.Fatalf("got two_factor %v, want enabled, not pending, 10 codes left", tf)
	}

	// Replay: the same code from a new half session is refused.
	c.call("POST", "/api/v1/logout", nil).want(t, http.StatusNoContent, "")
	c.call("POST", "/api/v1/login", map[string]string{"email": "alice@example.com",
		"password": testPassword}).want(t, http.StatusOK, "")
	c.call("POST", "/api/v1/login/totp", map[string]string{"code": code}).
		want(t, http.StatusUnauthorized, "invalid_code")

	secrets := append([]string{testPassword, secret, half, full}, codes...)
	checkNotLeaked(t, e, secrets, []string{enrolCode, code})
}

func checkEnrolment(t *testing.T, en map[string]any, secret string) {
	t.Helper()
	if en["issuer"] != "Acme Client Area" || en["account_name"] != "alice@example.com" ||
		en["new_device"] != false {
		t.Fatalf("got enrolment %v, want issuer Acme Client Area, alice, not a new device", en)
	}
	if !regexp.MustCompile(`^[A-Z2-7]{32}$`).MatchString(secret) {
		t.Fatalf("got secret %q, want 32 Base32 characters (20 bytes)", secret)
	}
	want := "otpauth://totp/Acme%20Client%20Area:alice%40example.com?secret=" + secret +
		"&issuer=Acme%20Client%20Area&algorithm=SHA1&digits=6&period=30"
	if en["otpauth_uri"] != want {
		t.Fatalf("got otpauth_uri %v, want %s", en["otpauth_uri"], want)
	}
}

// halfSessionRoutes is every /api/v1/account route: none may open to a
// session that is only past the password.
var halfSessionRoutes = []struct{ method, path string }{
	{"GET", "/api/v1/account"},
	{"POST", "/api/v1/account/password"},
	{"GET", "/api/v1/account/events"},
	{"POST", "/api/v1/account/2fa/setup"},
	{"DELETE", "/api/v1/account/2fa/setup"},
	{"GET", "/api/v1/account/2fa/setup/qr.png"},
	{"GET", "/api/v1/account/2fa/setup/key"},
	{"POST", "/api/v1/account/2fa/enable"},
	{"POST", "/api/v1/account/2fa/disable"},
	{"POST", "/api/v1/account/2fa/recovery-codes"},
	{"POST", "/api/v1/logout/everywhere"},
}

func checkHalfSessionLocked(t *testing.T, c *client) {
	t.Helper()
	for _, r := range halfSessionRoutes {
		var body any
		if r.method == "POST" {
			body = map[string]string{}
		}
		got := c.call(r.method, r.path, body)
		if got.status != http.StatusUnauthorized || got.errorCode(t) != "unauthenticated" {
			t.Fatalf("%s %s with a half session: got %d %s, want 401 unauthenticated",
				r.method, r.path, got.status, got.body)
		}
	}
}

// checkNotLeaked searches the logs and the outbox for secrets, and for
// TOTP codes as whole words (six digits also occur inside durations).
func checkNotLeaked(t *testing.T, e *env, secrets, codes []string) {
	t.Helper()
	places := map[string]string{"logs": e.logs.String()}
	files, err := filepath.Glob(filepath.Join(e.outbox, "*.eml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("got %d outbox files (%v), want the notices of the journey", len(files), err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("read outbox: %v", err)
		}
		places[filepath.Base(f)] = string(b)
	}
	for where, text := range places {
		for _, s := range secrets {
			if s != "" && strings.Contains(text, s) {
				t.Errorf("%s holds a secret (%d characters)", where, len(s))
			}
		}
		for _, code := range codes {
			if regexp.MustCompile(`\b` + code + `\b`).MatchString(text) {
				t.Errorf("%s holds a TOTP code", where)
			}
		}
	}
}

func stringList(t *testing.T, v any) []string {
	t.Helper()
	list, ok := v.([]any)
	if !ok {
		t.Fatalf("got %T, want a JSON array", v)
	}
	out := make([]string, len(list))
	for i, x := range list {
		s, ok := x.(string)
		if !ok {
			t.Fatalf("got element %T, want a string", x)
		}
		out[i] = s
	}
	return out
}

// TestSecretNeverShownAfterActivation is field case C18: after 2FA is on,
// no API answer holds the secret or a key URI, and the QR code and key
// file are gone; the same calls from a half session get 401.
func TestSecretNeverShownAfterActivation(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	c.signUp("bob@example.com")
	secret, _ := c.enrol()

	e.clock.Add(30 * time.Second)
	calls := []struct {
		method, path string
		body         any
		status       int
	}{
		{"GET", "/api/v1/account", nil, http.StatusOK},
		{"GET", "/api/v1/account/events?limit=200", nil, http.StatusOK},
		{"GET", "/api/v1/account/2fa/setup/qr.png", nil, http.StatusNotFound},
		{"GET", "/api/v1/account/2fa/setup/key", nil, http.StatusNotFound},
		{"POST", "/api/v1/account/2fa/enable", map[string]string{"code": "123456"},
			http.StatusNotFound},
		{"POST", "/api/v1/account/2fa/recovery-codes",
			map[string]string{"code": oathtool.TOTP(t, secret, e.clock.Now())}, http.StatusOK},
	}
	for _, k := range calls {
		got := c.call(k.method, k.path, k.body)
		if got.status != k.status {
			t.Fatalf("%s %s: got %d, want %d (%s)", k.method, k.path, got.status, k.status,
				got.body)
		}
		checkNoSecret(t, k.path, got, secret)
	}

	// The same calls from a session past the password only.
	c.call("POST", "/api/v1/logout", nil).want(t, http.StatusNoContent, "")
	login := c.call("POST", "/api/v1/login",
		map[string]string{"email": "bob@example.com", "password": testPassword})
	checkNoSecret(t, "/api/v1/login", login, secret)
	for _, k := range calls {
		got := c.call(k.method, k.path, k.body)
		got.want(t, http.StatusUnauthorized, "unauthenticated")
		checkNoSecret(t, k.path, got, secret)
	}
}

func checkNoSecret(t *testing.T, path string, a answer, secret string) {
	t.Helper()
	body := string(a.body)
	if strings.Contains(body, secret) || strings.Contains(body, "otpauth://") ||
		strings.Contains(body, "otpauth%3A") || strings.HasPrefix(body, "\x89PNG") {
		t.Fatalf("%s: the answer shows the secret, a key URI or a QR code: %.200s", path, body)
	}
}
