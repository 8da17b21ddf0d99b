package main

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/clientarea/clientarea/internal/oathtool"
	"github.com/clientarea/clientarea/internal/storetest"
	"github.com/clientarea/clientarea/internal/zbar"
)

const (
	alice    = "alice@example.com"
	alicePW  = "correct horse battery staple"
	keyRoute = "/api/v1/account/2fa/setup/key"
)

// enrol signs up and in, enrols with a code oathtool computes from the
// secret read out of the served QR code, and returns the secret, the
// recovery codes and the code that turned 2FA on.
func enrol(t *testing.T, ts *testServer, c *client, email string) (secret string, recovery []string, used string) {
	t.Helper()
	c.must(201, "POST", "/api/v1/signup", map[string]string{"email": email, "password": alicePW})
	out := c.must(200, "POST", "/api/v1/login", map[string]string{"email": email, "password": alicePW})
	if out["status"] != "signed_in" {
		t.Fatalf("login before 2FA: got %v, want signed_in", out)
	}
	setup := c.must(200, "POST", "/api/v1/account/2fa/setup", nil)
	status, png := c.raw("GET", "/api/v1/account/2fa/setup/qr.png", nil)
	if status != 200 {
		t.Fatalf("qr.png: got status %d", status)
	}
	uri := zbar.Decode(t, png)
	if uri != setup["otpauth_uri"] {
		t.Fatalf("QR code reads %q, want the otpauth_uri %q", uri, setup["otpauth_uri"])
	}
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatalf("parse key URI: %v", err)
	}
	secret = u.Query().Get("secret")
	if secret != setup["secret"] {
		t.Fatalf("secret in QR %q differs from the API's %q", secret, setup["secret"])
	}
	used = oathtool.TOTP(t, secret, ts.Clock.Now())
	out = c.must(200, "POST", "/api/v1/account/2fa/enable", map[string]string{"code": used})
	for _, v := range out["recovery_codes"].([]any) {
		recovery = append(recovery, v.(string))
	}
	if len(recovery) != 10 {
		t.Fatalf("got %d recovery codes, want 10", len(recovery))
	}
	return secret, recovery, used
}

// signIn does the password step and expects the code step to be next.
func signIn(t *testing.T, c *client, email string) {
	t.Helper()
	out := c.must(200, "POST", "/api/v1/login", map[string]string{"email": email, "password": alicePW})
	if out["status"] != "second_factor_required" {
		t.Fatalf("login with 2FA on: got %v, want second_factor_required", out)
	}
}

func TestJourney(t *testing.T) {
	eachDatabase(t, testJourney)
}

func testJourney(t *testing.T, dbArgs []string) {
	ts := startServer(t, nil, nil, dbArgs...)
	c := ts.client(t)

	c.must(201, "POST", "/api/v1/signup", map[string]string{"email": alice, "password": alicePW})
	c.must(200, "POST", "/api/v1/login", map[string]string{"email": alice, "password": alicePW})
	first := c.must(200, "POST", "/api/v1/account/2fa/setup", nil)
	again := c.must(200, "POST", "/api/v1/account/2fa/setup", nil)
	if first["secret"] != again["secret"] {
		t.Fatal("the pending secret changed when the enrolment was opened again")
	}
	secret := str(first["secret"])
	status, key := c.raw("GET", keyRoute, nil)
	if status != 200 || !strings.Contains(string(key), secret) {
		t.Fatalf("Save key file: status %d, holds secret %v", status, strings.Contains(string(key), secret))
	}

	// A wrong code leaves 2FA off.
	wrong := oathtool.TOTP(t, secret, ts.Clock.Now().Add(-5*time.Minute))
	c.must(401, "POST", "/api/v1/account/2fa/enable", map[string]string{"code": wrong})
	if tf := c.must(200, "GET", "/api/v1/account", nil)["two_factor"].(map[string]any); tf["enabled"] != false {
		t.Fatal("2FA is on after a wrong code")
	}

	used := oathtool.TOTP(t, secret, ts.Clock.Now())
	c.must(200, "POST", "/api/v1/account/2fa/enable", map[string]string{"code": used})
	if status, _ := c.raw("GET", keyRoute, nil); status != 404 {
		t.Fatalf("Save key file after activation: got status %d, want 404", status)
	}
	c.must(204, "POST", "/api/v1/logout", nil)

	signIn(t, c, alice)
	for _, path := range []string{"/api/v1/account", "/api/v1/account/events", keyRoute} {
		if status, _ := c.call("GET", path, nil); status != 401 {
			t.Errorf("GET %s between the password and the code: got %d, want 401", path, status)
		}
	}
	// The code that turned 2FA on counts as used (C16).
	c.must(401, "POST", "/api/v1/login/totp", map[string]string{"code": used})
	ts.Clock.Add(30 * time.Second)
	code := oathtool.TOTP(t, secret, ts.Clock.Now())
	if out := c.must(200, "POST", "/api/v1/login/totp", map[string]string{"code": code}); out["status"] != "signed_in" {
		t.Fatalf("code step: got %v", out)
	}
	acct := c.must(200, "GET", "/api/v1/account", nil)
	if tf := acct["two_factor"].(map[string]any); tf["enabled"] != true {
		t.Fatalf("account after sign-in: %v", acct)
	}

	// Replay: the same code in a new sign-in is refused.
	c.must(204, "POST", "/api/v1/logout", nil)
	signIn(t, c, alice)
	c.must(401, "POST", "/api/v1/login/totp", map[string]string{"code": code})
}

// TestWindow moves the clock: a code one step (30 s) away is accepted,
// three steps (90 s) away refused.
func TestWindow(t *testing.T) {
	ts := startServer(t, nil, nil)
	c := ts.client(t)
	secret, _, _ := enrol(t, ts, c, alice)
	c.must(204, "POST", "/api/v1/logout", nil)

	tests := []struct {
		name   string
		offset time.Duration
		want   int
	}{
		{"previous step", -30 * time.Second, 200},
		{"next step", 30 * time.Second, 200},
		{"90 s behind", -90 * time.Second, 401},
		{"90 s ahead", 90 * time.Second, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts.Clock.Add(10 * time.Minute) // each case on fresh steps
			signIn(t, c, alice)
			code := oathtool.TOTP(t, secret, ts.Clock.Now().Add(tt.offset))
			c.must(tt.want, "POST", "/api/v1/login/totp", map[string]string{"code": code})
			if tt.want == 200 {
				c.must(204, "POST", "/api/v1/logout", nil)
			}
		})
	}
}

// TestSimultaneousCode sends one valid code from many half-signed-in
// sessions at the same moment: exactly one may sign in.
func TestSimultaneousCode(t *testing.T) {
	eachDatabase(t, testSimultaneousCode)
}

func testSimultaneousCode(t *testing.T, dbArgs []string) {
	ts := startServer(t, nil, nil, dbArgs...)
	secret, _, _ := enrol(t, ts, ts.client(t), alice)
	ts.Clock.Add(time.Minute)

	const n = 20
	clients := make([]*client, n)
	for i := range clients {
		clients[i] = ts.client(t)
		signIn(t, clients[i], alice)
	}
	code := oathtool.TOTP(t, secret, ts.Clock.Now())
	if wins, statuses := sendAtOnce(clients, code); wins != 1 {
		t.Fatalf("got %d sign-ins with one code, want exactly 1 (statuses %v)", wins, statuses)
	}
}

// sendAtOnce sends one code from every client at the same moment and
// counts the sign-ins.
func sendAtOnce(clients []*client, code string) (wins int, statuses []int) {
	statuses = make([]int, len(clients))
	storetest.Race(len(clients), func(i int) {
		statuses[i], _ = clients[i].call("POST", "/api/v1/login/totp", map[string]string{"code": code})
	})
	for _, s := range statuses {
		if s == 200 {
			wins++
		}
	}
	return wins, statuses
}

// wrongCodes returns n codes that are not valid for secret at now: the
// field case's guesses, minus any that happen to be right in the window.
func wrongCodes(t *testing.T, secret string, now time.Time, n int) []string {
	t.Helper()
	valid := map[string]bool{}
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		valid[oathtool.TOTP(t, secret, now.Add(d))] = true
	}
	var out []string
	for _, c := range []string{"000000", "111111", "123456", "654321", "999999", "222222", "333333",
		"444444"} {
		if !valid[c] && len(out) < n {
			out = append(out, c)
		}
	}
	return out
}

// TestIssuerInQRCode sets an issuer with every awkward character and reads
// it back from the served QR code as an authenticator app parses it.
func TestIssuerInQRCode(t *testing.T) {
	const issuer = "Acme & Sons: Клиенты + 100% Ü"
	ts := startServer(t, nil, map[string]string{"CLIENTAREA_ISSUER": issuer})
	c := ts.client(t)
	c.must(201, "POST", "/api/v1/signup", map[string]string{"email": alice, "password": alicePW})
	c.must(200, "POST", "/api/v1/login", map[string]string{"email": alice, "password": alicePW})
	c.must(200, "POST", "/api/v1/account/2fa/setup", nil)
	_, png := c.raw("GET", "/api/v1/account/2fa/setup/qr.png", nil)
	uri := zbar.Decode(t, png)
	if strings.ContainsAny(uri, "+ ") {
		t.Errorf("key URI %q holds '+' or a space", uri)
	}
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	// The separator is the one literal ':' of the raw label; a ':' in the
	// issuer is %3A there.
	rawLabel := strings.TrimPrefix(strings.SplitN(uri, "?", 2)[0], "otpauth://totp/")
	rawPrefix, rawAccount, ok := strings.Cut(rawLabel, ":")
	prefix, err1 := url.PathUnescape(rawPrefix)
	account, err2 := url.PathUnescape(rawAccount)
	if !ok || err1 != nil || err2 != nil || prefix != issuer || account != alice {
		t.Errorf("label: got issuer %q and account %q, want %q and %q", prefix, account, issuer, alice)
	}
	if got := u.Query().Get("issuer"); got != issuer {
		t.Errorf("issuer parameter: got %q, want %q", got, issuer)
	}
}

// TestKnownBrowserNotLockedOut: a guesser's wrong passwords start the
// account's wait, but the customer's own browser, which signed in before
// and kept its device cookie, still gets in.
func TestKnownBrowserNotLockedOut(t *testing.T) {
	ts := startServer(t, nil, nil)
	customer := ts.client(t)
	customer.must(201, "POST", "/api/v1/signup", map[string]string{"email": alice, "password": alicePW})
	customer.must(200, "POST", "/api/v1/login", map[string]string{"email": alice, "password": alicePW})
	customer.must(204, "POST", "/api/v1/logout", nil)

	guesser := ts.client(t)
	for i := range 10 {
		guesser.must(401, "POST", "/api/v1/login",
			map[string]string{"email": alice, "password": "guess number " + str(i)})
	}
	guesser.must(429, "POST", "/api/v1/login", map[string]string{"email": alice, "password": alicePW})
	customer.must(200, "POST", "/api/v1/login", map[string]string{"email": alice, "password": alicePW})
}
