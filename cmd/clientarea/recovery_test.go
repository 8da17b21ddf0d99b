package main

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clientarea/clientarea/internal/oathtool"
)

// TestRecoveryCodeSignIn: a recovery code opens the account once and only
// once, and regenerating the codes kills the old ones (C14).
func TestRecoveryCodeSignIn(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbArgs []string) {
		ts := startServer(t, nil, nil, dbArgs...)
		c := ts.client(t)
		secret, codes, _ := enrol(t, ts, c, alice)
		c.must(204, "POST", "/api/v1/logout", nil)

		signIn(t, c, alice)
		// Typed in lower case without hyphens, as customers do.
		typed := strings.ToLower(strings.ReplaceAll(codes[0], "-", " "))
		out := c.must(200, "POST", "/api/v1/login/recovery", map[string]string{"code": typed})
		if out["recovery_codes_left"] != float64(9) {
			t.Errorf("codes left after one use: got %v, want 9", out["recovery_codes_left"])
		}
		c.must(204, "POST", "/api/v1/logout", nil)
		signIn(t, c, alice)
		c.must(401, "POST", "/api/v1/login/recovery", map[string]string{"code": codes[0]})
		c.must(200, "POST", "/api/v1/login/recovery", map[string]string{"code": codes[1]})
		tf := c.must(200, "GET", "/api/v1/account", nil)["two_factor"].(map[string]any)
		if tf["recovery_codes_left"] != float64(8) {
			t.Errorf("codes left after two uses: got %v, want 8", tf["recovery_codes_left"])
		}

		ts.Clock.Add(time.Minute)
		fresh := c.must(200, "POST", "/api/v1/account/2fa/recovery-codes",
			map[string]string{"code": oathtool.TOTP(t, secret, ts.Clock.Now())})
		if n := len(fresh["recovery_codes"].([]any)); n != 10 {
			t.Fatalf("got %d new codes, want 10", n)
		}
		c.must(204, "POST", "/api/v1/logout", nil)
		signIn(t, c, alice)
		c.must(401, "POST", "/api/v1/login/recovery", map[string]string{"code": codes[2]})
		c.must(200, "POST", "/api/v1/login/recovery",
			map[string]string{"code": fresh["recovery_codes"].([]any)[0].(string)})
	})
}

// TestNewDevice: a second enrolment leaves the old app working until the
// new one is confirmed; then only the new one works. Recovery codes stay.
func TestNewDevice(t *testing.T) {
	ts := startServer(t, nil, nil)
	c := ts.client(t)
	oldSecret, codes, _ := enrol(t, ts, c, alice)

	setup := c.must(200, "POST", "/api/v1/account/2fa/setup", nil)
	newSecret := str(setup["secret"])
	if setup["new_device"] != true || newSecret == oldSecret {
		t.Fatalf("new-device setup: %v", setup)
	}
	status, key := c.raw("GET", keyRoute, nil)
	if status != 200 || !strings.Contains(string(key), newSecret) ||
		strings.Contains(string(key), codes[0]) {
		t.Fatalf("new-device key file: status %d\n%s", status, key)
	}

	// Abandoned for now: the old app still signs in (C17).
	other := ts.client(t)
	ts.Clock.Add(time.Minute)
	signIn(t, other, alice)
	other.must(200, "POST", "/api/v1/login/totp",
		map[string]string{"code": oathtool.TOTP(t, oldSecret, ts.Clock.Now())})

	ts.Clock.Add(time.Minute)
	c.must(200, "POST", "/api/v1/account/2fa/enable",
		map[string]string{"code": oathtool.TOTP(t, newSecret, ts.Clock.Now())})

	ts.Clock.Add(time.Minute)
	fresh := ts.client(t)
	signIn(t, fresh, alice)
	fresh.must(401, "POST", "/api/v1/login/totp",
		map[string]string{"code": oathtool.TOTP(t, oldSecret, ts.Clock.Now())})
	fresh.must(200, "POST", "/api/v1/login/totp",
		map[string]string{"code": oathtool.TOTP(t, newSecret, ts.Clock.Now())})
	tf := fresh.must(200, "GET", "/api/v1/account", nil)["two_factor"].(map[string]any)
	if tf["recovery_codes_left"] != float64(10) {
		t.Errorf("recovery codes after a new device: got %v, want 10", tf["recovery_codes_left"])
	}
}

func TestDisable(t *testing.T) {
	ts := startServer(t, nil, nil)
	c := ts.client(t)
	secret, codes, _ := enrol(t, ts, c, alice)
	ts.Clock.Add(time.Minute)
	code := oathtool.TOTP(t, secret, ts.Clock.Now())

	c.must(401, "POST", "/api/v1/account/2fa/disable",
		map[string]string{"password": "wrong password", "code": code})
	c.must(400, "POST", "/api/v1/account/2fa/disable",
		map[string]string{"password": alicePW, "code": ""})
	c.must(401, "POST", "/api/v1/account/2fa/disable",
		map[string]string{"password": alicePW, "code": "ZZZZ-ZZZZ-ZZZZ"})
	if tf := c.must(200, "GET", "/api/v1/account", nil)["two_factor"].(map[string]any); tf["enabled"] != true {
		t.Fatal("2FA went off without the password and a code")
	}
	c.must(204, "POST", "/api/v1/account/2fa/disable",
		map[string]string{"password": alicePW, "code": codes[0]})
	if tf := c.must(200, "GET", "/api/v1/account", nil)["two_factor"].(map[string]any); tf["enabled"] != false {
		t.Fatal("2FA is still on")
	}
	c.must(204, "POST", "/api/v1/logout", nil)
	out := c.must(200, "POST", "/api/v1/login", map[string]string{"email": alice, "password": alicePW})
	if out["status"] != "signed_in" {
		t.Fatalf("login after disable: %v", out)
	}
}

var linkRE = regexp.MustCompile(`http://[^\s]+token=[A-Za-z0-9_%-]+`)

// lastLink returns the token of the newest e-mailed link.
func lastLink(t *testing.T, ts *testServer) string {
	t.Helper()
	mails := ts.outbox(t)
	for i := len(mails) - 1; i >= 0; i-- {
		if m := linkRE.FindString(mails[i]); m != "" {
			u, err := url.Parse(m)
			if err != nil {
				t.Fatal(err)
			}
			return u.Query().Get("token")
		}
	}
	t.Fatal("no e-mail with a link")
	return ""
}

// TestPasswordResetKeepsSecondFactor: a reset by e-mail link never skips
// the code step.
func TestPasswordResetKeepsSecondFactor(t *testing.T) {
	ts := startServer(t, nil, nil)
	c := ts.client(t)
	enrol(t, ts, c, alice)
	anon := ts.client(t)
	anon.must(202, "POST", "/api/v1/password/forgot", map[string]string{"email": alice})
	token := lastLink(t, ts)
	const next = "a brand new password"
	anon.must(204, "POST", "/api/v1/password/reset", map[string]string{"token": token, "password": next})
	anon.must(401, "GET", "/api/v1/account", nil)
	// The old session ended with the reset.
	c.must(401, "GET", "/api/v1/account", nil)
	out := anon.must(200, "POST", "/api/v1/login", map[string]string{"email": alice, "password": next})
	if out["status"] != "second_factor_required" {
		t.Fatalf("login after a password reset: got %v, want second_factor_required", out)
	}
	anon.must(401, "GET", "/api/v1/account", nil)
	// The link works once.
	ts.client(t).must(404, "POST", "/api/v1/password/reset",
		map[string]string{"token": token, "password": "yet another password"})
}

// TestSupportRequest: from the code step, the customer asks for help; the
// e-mailed link confirms it; support sees it in the queue and resets.
func TestSupportRequest(t *testing.T) {
	ts := startServer(t, nil, nil)
	enrol(t, ts, ts.client(t), alice)

	staff := ts.client(t)
	const staffPW = "a long staff password"
	if code, _, stderr := ts.cli(t, staffPW+"\n", "admin", "create-user", "--email",
		"staff@example.com", "--admin"); code != 0 {
		t.Fatal(stderr)
	}
	staff.must(200, "POST", "/api/v1/login", map[string]string{"email": "staff@example.com",
		"password": staffPW})
	if status, _ := staff.raw("GET", "/admin", nil); status != 403 {
		t.Fatalf("admin pages for staff without 2FA: got %d, want 403", status)
	}
	setup := staff.must(200, "POST", "/api/v1/account/2fa/setup", nil)
	staff.must(200, "POST", "/api/v1/account/2fa/enable",
		map[string]string{"code": oathtool.TOTP(t, str(setup["secret"]), ts.Clock.Now())})

	c := ts.client(t)
	signIn(t, c, alice)
	c.must(202, "POST", "/api/v1/login/support", map[string]string{"message": "lost my phone"})
	if _, page := staff.raw("GET", "/admin", nil); strings.Contains(string(page), alice) {
		t.Fatal("an unconfirmed request is in the support queue")
	}
	token := lastLink(t, ts)
	status, _ := c.raw("GET", "/support/confirm?token="+url.QueryEscape(token), nil)
	if status != 200 {
		t.Fatalf("confirmation page: got %d", status)
	}
	form := url.Values{"token": {token}}
	if status := postForm(t, c, "/support/confirm", form); status >= 400 {
		t.Fatalf("confirm: got %d", status)
	}
	if _, page := staff.raw("GET", "/admin", nil); !strings.Contains(string(page), alice) {
		t.Fatalf("the confirmed request is not in the support queue:\n%s", page)
	}
}
