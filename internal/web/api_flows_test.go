package web

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clientarea/clientarea/internal/auth"
	"github.com/clientarea/clientarea/internal/mail"
	"github.com/clientarea/clientarea/internal/oathtool"
)

func TestLoginCookie(t *testing.T) {
	tests := []struct {
		name       string
		secure     bool
		wantSecure bool
	}{
		{"plain http", false, false},
		{"behind a TLS proxy", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnvWith(t, func(_ *auth.Config, c *Config) { c.SecureCookies = tt.secure })
			c := e.client()
			c.signUp(alice)
			got := c.call("POST", "/api/v1/login", creds(alice, testPassword))
			ck := sessionSetCookie(t, got)
			if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" ||
				ck.Secure != tt.wantSecure || len(ck.Value) < 43 {
				t.Fatalf("got cookie %v, want HttpOnly, SameSite=Lax, Path=/, Secure=%v, "+
					"a 256-bit value", ck, tt.wantSecure)
			}
			out := c.call("POST", "/api/v1/logout", nil)
			if ck := sessionSetCookie(t, out); ck.MaxAge >= 0 || ck.Value != "" {
				t.Fatalf("got logout cookie %v, want it deleted", ck)
			}
		})
	}
}

func sessionSetCookie(t *testing.T, a answer) *http.Cookie {
	t.Helper()
	for _, line := range a.header.Values("Set-Cookie") {
		ck, err := http.ParseSetCookie(line)
		if err == nil && ck.Name == SessionCookie {
			return ck
		}
	}
	t.Fatalf("no %s cookie in %v", SessionCookie, a.header.Values("Set-Cookie"))
	return nil
}

func TestAnswerBodies(t *testing.T) {
	oathtool.Require(t)
	e := newEnv(t)
	f := withTwoFactor(e)
	got := f.c.call("GET", "/api/v1/account", nil)
	want := `{"email":"alice@example.com","role":"customer","two_factor":` +
		`{"enabled":true,"pending":false,"recovery_codes_left":10}}` + "\n"
	if string(got.body) != want {
		t.Fatalf("got account %s, want %s", got.body, want)
	}
	if ct := got.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("got Content-Type %q, want application/json", ct)
	}

	regen := f.c.call("POST", "/api/v1/account/2fa/recovery-codes",
		map[string]string{"code": f.code()})
	regen.want(t, http.StatusOK, "")
	fresh := stringList(t, regen.json(t)["recovery_codes"])
	if len(fresh) != 10 || slices.ContainsFunc(fresh, func(c string) bool {
		return slices.Contains(f.codes, c)
	}) {
		t.Fatalf("got new codes %v, want 10 codes unlike the old ones %v", fresh, f.codes)
	}

	f.c.call("POST", "/api/v1/logout", nil)
	f.c.call("POST", "/api/v1/login", creds(alice, testPassword)).want(t, http.StatusOK, "")
	f.c.call("POST", "/api/v1/login/recovery", map[string]string{"code": f.codes[0]}).
		want(t, http.StatusUnauthorized, "invalid_code")
	rec := f.c.call("POST", "/api/v1/login/recovery",
		map[string]string{"code": strings.ToLower(fresh[0])})
	rec.want(t, http.StatusOK, "")
	want = `{"status":"signed_in","recovery_codes_left":9}` + "\n"
	if string(rec.body) != want {
		t.Fatalf("got recovery answer %s, want %s", rec.body, want)
	}

	setup := f.c.call("POST", "/api/v1/account/2fa/setup", nil).json(t)
	if setup["new_device"] != true || setup["secret"] == f.secret {
		t.Fatalf("got new-device setup %v, want new_device true and a new secret", setup)
	}
	f.secret = setup["secret"].(string)
	enabled := f.c.call("POST", "/api/v1/account/2fa/enable", map[string]string{"code": f.code()})
	want = `{"status":"enabled","recovery_codes":[]}` + "\n"
	if string(enabled.body) != want {
		t.Fatalf("got new-device enable %s, want %s", enabled.body, want)
	}
}

// TestEnableClockOffset: a code from a phone five minutes fast is refused
// with the offset, so the page can say how far off the clock is.
func TestEnableClockOffset(t *testing.T) {
	oathtool.Require(t)
	f := pendingSetup(newEnv(t))
	fast := oathtool.TOTP(t, f.secret, f.e.clock.Now().Add(5*time.Minute))
	got := f.c.call("POST", "/api/v1/account/2fa/enable", map[string]string{"code": fast})
	got.want(t, http.StatusUnauthorized, "invalid_code")
	e := got.json(t)["error"].(map[string]any)
	if e["clock_offset_seconds"] != 300.0 {
		t.Fatalf("got clock_offset_seconds %v, want 300", e["clock_offset_seconds"])
	}
	wrong := f.c.call("POST", "/api/v1/account/2fa/enable", map[string]string{"code": f.wrong()})
	if _, ok := wrong.json(t)["error"].(map[string]any)["clock_offset_seconds"]; ok {
		t.Fatalf("got clock_offset_seconds for a code of no nearby time: %s", wrong.body)
	}
}

// TestSecondFactorThrottle: five wrong codes are answered 401, then every
// attempt, a right code included, waits with 429 and Retry-After.
func TestSecondFactorThrottle(t *testing.T) {
	oathtool.Require(t)
	f := halfSignedIn(newEnv(t))
	for i := range 5 {
		got := f.c.call("POST", "/api/v1/login/totp", map[string]string{"code": f.wrong()})
		if got.status != http.StatusUnauthorized {
			t.Fatalf("wrong code %d: got %d, want 401", i+1, got.status)
		}
	}
	got := f.c.call("POST", "/api/v1/login/totp", map[string]string{"code": f.code()})
	got.want(t, http.StatusTooManyRequests, "throttled")
	if ra := got.header.Get("Retry-After"); ra != "30" {
		t.Fatalf("got Retry-After %q, want 30", ra)
	}
	f.e.clock.Add(31 * time.Second)
	f.c.call("POST", "/api/v1/login/totp", map[string]string{"code": f.code()}).
		want(t, http.StatusOK, "")
}

func TestSecondFactorLocked(t *testing.T) {
	oathtool.Require(t)
	e := newEnvWith(t, func(a *auth.Config, _ *Config) {
		a.Policy = auth.DefaultPolicy()
		a.Policy.FactorHardLimit = 3
	})
	f := halfSignedIn(e)
	for range 3 {
		f.c.call("POST", "/api/v1/login/totp", map[string]string{"code": f.wrong()}).
			want(t, http.StatusUnauthorized, "invalid_code")
	}
	f.c.call("POST", "/api/v1/login/totp", map[string]string{"code": f.code()}).
		want(t, http.StatusLocked, "totp_locked")
	f.c.call("POST", "/api/v1/login/recovery", map[string]string{"code": f.codes[0]}).
		want(t, http.StatusOK, "")
}

func TestPasswordThrottle(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	c.signUp(alice)
	for i := range 10 {
		got := c.call("POST", "/api/v1/login", creds(alice, "wrong password"))
		if got.status != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: got %d, want 401", i+1, got.status)
		}
	}
	got := c.call("POST", "/api/v1/login", creds(alice, testPassword))
	got.want(t, http.StatusTooManyRequests, "throttled")
	if ra := got.header.Get("Retry-After"); ra != "30" {
		t.Fatalf("got Retry-After %q, want 30", ra)
	}
}

func TestEvents(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	c.signUp(alice) // signup at t0, sign-in at t0
	e.clock.Add(time.Minute)
	c.call("POST", "/api/v1/login", creds(alice, "wrong password"))
	c.call("POST", "/api/v1/login", creds(alice, testPassword)).want(t, http.StatusOK, "")

	var kinds, ats []string
	path := "/api/v1/account/events?limit=1"
	for range 10 {
		got := c.call("GET", path, nil)
		got.want(t, http.StatusOK, "")
		page := got.json(t)
		events := page["events"].([]any)
		if len(events) != 1 {
			t.Fatalf("got %d events on a page of limit 1, want 1", len(events))
		}
		ev := events[0].(map[string]any)
		if ev["ip"] != "127.0.0.1" || ev["user_agent"] != "Go-http-client/1.1" {
			t.Fatalf("got event %v, want ip 127.0.0.1 and the Go client's user agent", ev)
		}
		kinds = append(kinds, ev["kind"].(string))
		ats = append(ats, ev["at"].(string))
		next := page["next"].(string)
		if next == "" {
			break
		}
		path = "/api/v1/account/events?limit=1&before=" + url.QueryEscape(next)
	}
	wantKinds := []string{"signin", "password_failed", "signin", "signup"}
	wantAts := []string{"2023-11-14T22:14:30Z", "2023-11-14T22:14:30Z",
		"2023-11-14T22:13:30Z", "2023-11-14T22:13:30Z"}
	if !slices.Equal(kinds, wantKinds) || !slices.Equal(ats, wantAts) {
		t.Fatalf("got events %v at %v, want %v at %v", kinds, ats, wantKinds, wantAts)
	}
}

// TestSignupExisting: signing up with a registered address answers like a
// new sign-up and e-mails the owner instead.
func TestSignupExisting(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	first := c.call("POST", "/api/v1/signup", creds(alice, testPassword))
	again := c.call("POST", "/api/v1/signup", creds(alice, "another password"))
	if first.status != again.status || string(first.body) != string(again.body) {
		t.Fatalf("got %d %s for a registered address, want %d %s like a new one",
			again.status, again.body, first.status, first.body)
	}
	msgs := readOutbox(t, e)
	if len(msgs) != 1 || msgs[0].To != alice {
		t.Fatalf("got %d messages, want one to the owner", len(msgs))
	}
	c.call("POST", "/api/v1/login", creds(alice, testPassword)).want(t, http.StatusOK, "")
}

func readOutbox(t *testing.T, e *env) []mail.Message {
	t.Helper()
	msgs, err := mail.ReadOutbox(e.outbox)
	if err != nil {
		t.Fatalf("read outbox: %v", err)
	}
	return msgs
}

func TestSessionsEnded(t *testing.T) {
	tests := []struct {
		name      string
		action    func(c *client) answer
		wantOwn   int
		wantOther int
	}{
		{"sign out everywhere", func(c *client) answer {
			return c.call("POST", "/api/v1/logout/everywhere", nil)
		}, 401, 401},
		{"password change", func(c *client) answer {
			return c.call("POST", "/api/v1/account/password", map[string]string{
				"current_password": testPassword, "new_password": "a new password"})
		}, 200, 401},
		{"sign out", func(c *client) answer {
			return c.call("POST", "/api/v1/logout", nil)
		}, 401, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			own, other := e.client(), e.client()
			own.signUp(alice)
			other.call("POST", "/api/v1/login", creds(alice, testPassword)).
				want(t, http.StatusOK, "")
			tt.action(own).want(t, http.StatusNoContent, "")
			if got := own.call("GET", "/api/v1/account", nil).status; got != tt.wantOwn {
				t.Errorf("own session: got %d, want %d", got, tt.wantOwn)
			}
			if got := other.call("GET", "/api/v1/account", nil).status; got != tt.wantOther {
				t.Errorf("other session: got %d, want %d", got, tt.wantOther)
			}
		})
	}
}

// TestPasswordResetKeepsSecondFactor: a reset through the e-mailed link
// changes the password and still asks for the code at the next sign-in.
func TestPasswordResetKeepsSecondFactor(t *testing.T) {
	oathtool.Require(t)
	f := withTwoFactor(newEnv(t))
	anon := f.e.client()
	anon.call("POST", "/api/v1/password/forgot", map[string]string{"email": alice}).
		want(t, http.StatusAccepted, "")
	token := ""
	link := regexp.MustCompile(`/password/reset\?token=(\S+)`)
	for _, m := range readOutbox(t, f.e) {
		if m := link.FindStringSubmatch(m.Text); m != nil {
			token, _ = url.QueryUnescape(m[1])
		}
	}
	if token == "" {
		t.Fatal("no reset link in the outbox")
	}
	reset := map[string]string{"token": token, "password": "a brand new password"}
	anon.call("POST", "/api/v1/password/reset", reset).want(t, http.StatusNoContent, "")
	anon.call("POST", "/api/v1/password/reset", reset).want(t, http.StatusNotFound, "not_found")
	f.c.call("GET", "/api/v1/account", nil).want(t, http.StatusUnauthorized, "unauthenticated")

	got := anon.call("POST", "/api/v1/login", creds(alice, "a brand new password"))
	if s := got.json(t)["status"]; s != "second_factor_required" {
		t.Fatalf("got status %v after a reset, want second_factor_required", s)
	}
	if strings.Contains(f.e.logs.String(), token) {
		t.Fatal("the logs hold the reset token")
	}
}

func TestSupportRequest(t *testing.T) {
	oathtool.Require(t)
	f := halfSignedIn(newEnv(t))
	before := len(readOutbox(t, f.e))
	f.c.call("POST", "/api/v1/login/support", map[string]string{"message": "phone lost"}).
		want(t, http.StatusAccepted, "")
	msgs := readOutbox(t, f.e)
	last := msgs[len(msgs)-1].Text
	if len(msgs) != before+1 || !strings.Contains(last, "/support/confirm?token=") {
		t.Fatalf("got %d new messages, want one confirmation link", len(msgs)-before)
	}
	f.c.call("GET", "/api/v1/account", nil).want(t, http.StatusUnauthorized, "unauthenticated")
}
