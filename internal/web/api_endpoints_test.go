package web

import (
	"net/http"
	"testing"
	"time"

	"github.com/clientarea/clientarea/internal/oathtool"
)

// fixture is a client in a known state of signing in.
type fixture struct {
	e      *env
	c      *client
	secret string
	codes  []string
}

// code is the current TOTP code of the fixture's secret, from oathtool.
func (f *fixture) code() string { return oathtool.TOTP(f.e.t, f.secret, f.e.clock.Now()) }

// wrong is a well-formed code that matches no step in the accepted window.
func (f *fixture) wrong() string {
	now := f.e.clock.Now()
	taken := map[string]bool{}
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		taken[oathtool.TOTP(f.e.t, f.secret, now.Add(d))] = true
	}
	for _, c := range []string{"000000", "111111", "222222", "333333"} {
		if !taken[c] {
			return c
		}
	}
	f.e.t.Fatal("no wrong code found")
	return ""
}

const alice = "alice@example.com"

func creds(email, pw string) map[string]string {
	return map[string]string{"email": email, "password": pw}
}

// The states a case can start from.
func anonymous(e *env) *fixture {
	e.client().signUp(alice)
	return &fixture{e: e, c: e.client()}
}

func signedIn(e *env) *fixture {
	c := e.client()
	c.signUp(alice)
	return &fixture{e: e, c: c}
}

func pendingSetup(e *env) *fixture {
	f := signedIn(e)
	setup := f.c.call("POST", "/api/v1/account/2fa/setup", nil)
	setup.want(e.t, http.StatusOK, "")
	f.secret = setup.json(e.t)["secret"].(string)
	return f
}

// withTwoFactor is signed in with 2FA on, one step after the enrolment
// code so that the current code is unused.
func withTwoFactor(e *env) *fixture {
	f := signedIn(e)
	f.secret, f.codes = f.c.enrol()
	e.clock.Add(30 * time.Second)
	return f
}

// halfSignedIn is past the password of an account with 2FA.
func halfSignedIn(e *env) *fixture {
	f := withTwoFactor(e)
	f.c.call("POST", "/api/v1/logout", nil).want(e.t, http.StatusNoContent, "")
	f.c.call("POST", "/api/v1/login", creds(alice, testPassword)).want(e.t, http.StatusOK, "")
	return f
}

// TestAPIEndpoints checks each endpoint's answers from each state: the
// status and, for errors, the error code.
func TestAPIEndpoints(t *testing.T) {
	oathtool.Require(t)
	type body = func(*fixture) any
	none := func(*fixture) any { return nil }
	obj := func(m map[string]string) body { return func(*fixture) any { return m } }
	code := func(f *fixture) any { return map[string]string{"code": f.code()} }
	wrong := func(f *fixture) any { return map[string]string{"code": f.wrong()} }
	tests := []struct {
		name         string
		state        func(*env) *fixture
		method, path string
		body         body
		status       int
		code         string
	}{
		{"signup", anonymous, "POST", "/api/v1/signup", obj(creds("bob@example.com", testPassword)),
			201, ""},
		{"signup existing", anonymous, "POST", "/api/v1/signup",
			obj(creds(alice, "another password")), 201, ""},
		{"signup bad email", anonymous, "POST", "/api/v1/signup", obj(creds("bob", testPassword)),
			400, "invalid_input"},
		{"signup short password", anonymous, "POST", "/api/v1/signup",
			obj(creds("bob@example.com", "short")), 400, "invalid_input"},
		{"login", anonymous, "POST", "/api/v1/login", obj(creds(alice, testPassword)), 200, ""},
		{"login wrong password", anonymous, "POST", "/api/v1/login",
			obj(creds(alice, "wrong password")), 401, "invalid_credentials"},
		{"login unknown", anonymous, "POST", "/api/v1/login",
			obj(creds("nobody@example.com", testPassword)), 401, "invalid_credentials"},
		{"totp without session", anonymous, "POST", "/api/v1/login/totp",
			obj(map[string]string{"code": "123456"}), 401, "unauthenticated"},
		{"recovery without session", anonymous, "POST", "/api/v1/login/recovery",
			obj(map[string]string{"code": "AAAA-BBBB-CCCC"}), 401, "unauthenticated"},
		{"support without session", anonymous, "POST", "/api/v1/login/support",
			obj(map[string]string{"message": "lost my phone"}), 401, "unauthenticated"},
		{"logout without session", anonymous, "POST", "/api/v1/logout", none, 204, ""},
		{"everywhere without session", anonymous, "POST", "/api/v1/logout/everywhere", none,
			401, "unauthenticated"},
		{"account without session", anonymous, "GET", "/api/v1/account", none,
			401, "unauthenticated"},
		{"forgot", anonymous, "POST", "/api/v1/password/forgot",
			obj(map[string]string{"email": alice}), 202, ""},
		{"forgot unknown", anonymous, "POST", "/api/v1/password/forgot",
			obj(map[string]string{"email": "nobody@example.com"}), 202, ""},
		{"forgot bad email", anonymous, "POST", "/api/v1/password/forgot",
			obj(map[string]string{"email": "x"}), 400, "invalid_input"},
		{"reset bad token", anonymous, "POST", "/api/v1/password/reset",
			obj(map[string]string{"token": "nope", "password": "a new password"}),
			404, "not_found"},
		{"reset short password", anonymous, "POST", "/api/v1/password/reset",
			obj(map[string]string{"token": "nope", "password": "short"}), 400, "invalid_input"},

		{"totp", halfSignedIn, "POST", "/api/v1/login/totp", code, 200, ""},
		{"totp wrong", halfSignedIn, "POST", "/api/v1/login/totp", wrong, 401, "invalid_code"},
		{"totp format", halfSignedIn, "POST", "/api/v1/login/totp",
			obj(map[string]string{"code": "12ab56"}), 400, "invalid_code_format"},
		{"totp seven digits", halfSignedIn, "POST", "/api/v1/login/totp",
			obj(map[string]string{"code": "1234567"}), 400, "invalid_code_format"},
		{"recovery", halfSignedIn, "POST", "/api/v1/login/recovery",
			func(f *fixture) any { return map[string]string{"code": f.codes[3]} }, 200, ""},
		{"recovery wrong", halfSignedIn, "POST", "/api/v1/login/recovery",
			obj(map[string]string{"code": "AAAA-BBBB-CCCC"}), 401, "invalid_code"},
		{"recovery format", halfSignedIn, "POST", "/api/v1/login/recovery",
			obj(map[string]string{"code": "!!"}), 400, "invalid_code_format"},
		{"support", halfSignedIn, "POST", "/api/v1/login/support",
			obj(map[string]string{"message": "lost my phone"}), 202, ""},
		{"logout half", halfSignedIn, "POST", "/api/v1/logout", none, 204, ""},

		{"account", signedIn, "GET", "/api/v1/account", none, 200, ""},
		{"totp when signed in", signedIn, "POST", "/api/v1/login/totp",
			obj(map[string]string{"code": "123456"}), 409, "conflict"},
		{"setup", signedIn, "POST", "/api/v1/account/2fa/setup", none, 200, ""},
		{"cancel setup", pendingSetup, "DELETE", "/api/v1/account/2fa/setup", none, 204, ""},
		{"qr", pendingSetup, "GET", "/api/v1/account/2fa/setup/qr.png", none, 200, ""},
		{"key", pendingSetup, "GET", "/api/v1/account/2fa/setup/key", none, 200, ""},
		{"qr not pending", signedIn, "GET", "/api/v1/account/2fa/setup/qr.png", none,
			404, "not_found"},
		{"key not pending", signedIn, "GET", "/api/v1/account/2fa/setup/key", none,
			404, "not_found"},
		{"enable", pendingSetup, "POST", "/api/v1/account/2fa/enable", code, 200, ""},
		{"enable wrong", pendingSetup, "POST", "/api/v1/account/2fa/enable", wrong,
			401, "invalid_code"},
		{"enable format", pendingSetup, "POST", "/api/v1/account/2fa/enable",
			obj(map[string]string{"code": "12 34 5"}), 400, "invalid_code_format"},
		{"enable not pending", signedIn, "POST", "/api/v1/account/2fa/enable",
			obj(map[string]string{"code": "123456"}), 404, "not_found"},
		{"disable when off", signedIn, "POST", "/api/v1/account/2fa/disable",
			obj(map[string]string{"password": testPassword, "code": "123456"}), 409, "conflict"},
		{"regenerate when off", signedIn, "POST", "/api/v1/account/2fa/recovery-codes",
			obj(map[string]string{"code": "123456"}), 401, "invalid_code"},
		{"change password", signedIn, "POST", "/api/v1/account/password",
			obj(map[string]string{"current_password": testPassword,
				"new_password": "a new password"}), 204, ""},
		{"change password wrong current", signedIn, "POST", "/api/v1/account/password",
			obj(map[string]string{"current_password": "wrong password",
				"new_password": "a new password"}), 401, "invalid_credentials"},
		{"change password too short", signedIn, "POST", "/api/v1/account/password",
			obj(map[string]string{"current_password": testPassword, "new_password": "short"}),
			400, "invalid_input"},
		{"events", signedIn, "GET", "/api/v1/account/events", none, 200, ""},
		{"events limit 200", signedIn, "GET", "/api/v1/account/events?limit=200", none, 200, ""},
		{"events limit 0", signedIn, "GET", "/api/v1/account/events?limit=0", none,
			400, "invalid_input"},
		{"events limit 201", signedIn, "GET", "/api/v1/account/events?limit=201", none,
			400, "invalid_input"},
		{"events limit text", signedIn, "GET", "/api/v1/account/events?limit=ten", none,
			400, "invalid_input"},
		{"events limit empty", signedIn, "GET", "/api/v1/account/events?limit=", none,
			400, "invalid_input"},
		{"events before text", signedIn, "GET", "/api/v1/account/events?before=x", none,
			400, "invalid_input"},
		{"events before 0", signedIn, "GET", "/api/v1/account/events?before=0", none,
			400, "invalid_input"},
		{"everywhere", signedIn, "POST", "/api/v1/logout/everywhere", none, 204, ""},

		{"disable", withTwoFactor, "POST", "/api/v1/account/2fa/disable",
			func(f *fixture) any {
				return map[string]string{"password": testPassword, "code": f.code()}
			}, 204, ""},
		{"disable with recovery code", withTwoFactor, "POST", "/api/v1/account/2fa/disable",
			func(f *fixture) any {
				return map[string]string{"password": testPassword, "code": f.codes[0]}
			}, 204, ""},
		{"disable wrong password", withTwoFactor, "POST", "/api/v1/account/2fa/disable",
			func(f *fixture) any {
				return map[string]string{"password": "wrong password", "code": f.code()}
			}, 401, "invalid_credentials"},
		{"disable wrong code", withTwoFactor, "POST", "/api/v1/account/2fa/disable",
			func(f *fixture) any {
				return map[string]string{"password": testPassword, "code": f.wrong()}
			}, 401, "invalid_code"},
		{"regenerate", withTwoFactor, "POST", "/api/v1/account/2fa/recovery-codes", code,
			200, ""},
		{"regenerate wrong", withTwoFactor, "POST", "/api/v1/account/2fa/recovery-codes",
			wrong, 401, "invalid_code"},
		{"new device setup", withTwoFactor, "POST", "/api/v1/account/2fa/setup", none, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.state(newEnv(t))
			got := f.c.call(tt.method, tt.path, tt.body(f))
			got.want(t, tt.status, tt.code)
			if cc := got.header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("got Cache-Control %q, want no-store", cc)
			}
		})
	}
}
