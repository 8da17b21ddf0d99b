package auth_test

import (
	"fmt"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/clientarea/clientarea/internal/auth"
	"github.com/clientarea/clientarea/internal/storetest"
)

// TestLoginErrorsAlike: an unknown e-mail and a wrong password must not be
// told apart by the answer, or the sign-in form lists the customers.
func TestLoginErrorsAlike(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		a := e.account("known@example.com")
		_, unknown := e.svc.Login(t.Context(), "unknown@example.com", pw, meta(ip))
		_, wrong := e.svc.Login(t.Context(), a.Email, "wrong password", meta(ip))
		_, malformed := e.svc.Login(t.Context(), "not an address", pw, meta(ip))
		u := wantCode(t, unknown, auth.CodeInvalidCredentials)
		for name, err := range map[string]error{"wrong password": wrong, "malformed": malformed} {
			got := wantCode(t, err, auth.CodeInvalidCredentials)
			if got.Message != u.Message || err.Error() != unknown.Error() {
				t.Errorf("%s: got %q, want the unknown e-mail's %q", name, err, unknown)
			}
		}
	})
}

func TestPasswordThrottle(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		t.Run("per address", func(t *testing.T) {
			e := newEnv(t, dialect)
			a := e.account("ipvictim@example.com")
			const attacker = "203.0.113.9"
			for i := range 20 {
				email := fmt.Sprintf("guess%d@example.com", i)
				_, err := e.svc.Login(t.Context(), email, pw, meta(attacker))
				wantCode(t, err, auth.CodeInvalidCredentials)
			}
			_, err := e.svc.Login(t.Context(), a.Email, pw, meta(attacker))
			if got := wantCode(t, err, auth.CodeThrottled).RetryAfter; got != time.Minute {
				t.Errorf("RetryAfter: got %v, want 1m", got)
			}
			if _, err := e.svc.Login(t.Context(), a.Email, pw, meta(ip)); err != nil {
				t.Errorf("another address: %v", err)
			}
			e.clock.Add(time.Minute)
			if _, err := e.svc.Login(t.Context(), a.Email, pw, meta(attacker)); err != nil {
				t.Errorf("after the wait: %v", err)
			}
		})

		t.Run("per account", func(t *testing.T) {
			e := newEnv(t, dialect)
			a := e.account("target@example.com")
			next := newAddresses()
			waits := []time.Duration{30, 60, 120, 240, 300, 300}
			for round, want := range waits {
				want *= time.Second
				for range 10 {
					_, err := e.svc.Login(t.Context(), a.Email, "wrong password", next())
					wantCode(t, err, auth.CodeInvalidCredentials)
				}
				_, err := e.svc.Login(t.Context(), a.Email, pw, next())
				if got := wantCode(t, err, auth.CodeThrottled).RetryAfter; got != want {
					t.Fatalf("round %d: RetryAfter: got %v, want %v", round+1, got, want)
				}
				e.clock.Add(want - time.Second)
				_, err = e.svc.Login(t.Context(), a.Email, pw, next())
				wantCode(t, err, auth.CodeThrottled)
				e.clock.Add(time.Second)
				if _, err := e.svc.Login(t.Context(), a.Email, pw, next()); err != nil {
					t.Fatalf("round %d: after the wait: %v", round+1, err)
				}
			}
		})

		t.Run("three typos", func(t *testing.T) {
			e := newEnv(t, dialect)
			a := e.account("typo@example.com")
			for range 3 {
				_, err := e.svc.Login(t.Context(), a.Email, "wrong password", meta(ip))
				wantCode(t, err, auth.CodeInvalidCredentials)
			}
			if _, err := e.svc.Login(t.Context(), a.Email, pw, meta(ip)); err != nil {
				t.Errorf("the right password after 3 typos: %v", err)
			}
		})
	})
}

// TestPasswordThrottleForgetsAfterADay: the account's waits double while
// guessing goes on, and start again from the shortest a day after the last
// one ended.
func TestPasswordThrottleForgetsAfterADay(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		a := e.account("forgets@example.com")
		next := newAddresses()
		wait := func(gap time.Duration) time.Duration {
			t.Helper()
			e.clock.Add(gap)
			for range 10 {
				_, err := e.svc.Login(t.Context(), a.Email, "wrong password", next())
				wantCode(t, err, auth.CodeInvalidCredentials)
			}
			_, err := e.svc.Login(t.Context(), a.Email, pw, next())
			return wantCode(t, err, auth.CodeThrottled).RetryAfter
		}
		steps := []struct {
			gap, want time.Duration
		}{
			{0, 30 * time.Second},
			{30 * time.Second, time.Minute},
			// Just under a day after the last wait ended: it still counts.
			{time.Minute + 24*time.Hour - time.Second, 2 * time.Minute},
			// A day after: forgotten.
			{2*time.Minute + 24*time.Hour, 30 * time.Second},
		}
		for i, st := range steps {
			if got := wait(st.gap); got != st.want {
				t.Fatalf("wait %d: got %v, want %v", i+1, got, st.want)
			}
		}
	})
}

// TestRefusedAttemptKeepsNoAddressPlace: an attempt the account's limit
// refuses checks no password, so it uses up none of its address's budget:
// a shared address (an office, a hosting panel) retrying a customer whose
// account a guesser locked can still sign in its other customers.
func TestRefusedAttemptKeepsNoAddressPlace(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		victim, other := e.account("locked@example.com"), e.account("other@example.com")
		for i := range 11 {
			_, err := e.svc.Login(t.Context(), victim.Email, "wrong password",
				meta(fmt.Sprintf("203.0.113.%d", i+1)))
			if i == 10 {
				wantCode(t, err, auth.CodeThrottled)
			}
		}
		const shared = "198.51.100.200"
		for range 25 {
			_, err := e.svc.Login(t.Context(), victim.Email, pw, meta(shared))
			wantCode(t, err, auth.CodeThrottled)
		}
		if _, err := e.svc.Login(t.Context(), other.Email, pw, meta(shared)); err != nil {
			t.Errorf("another customer from the shared address: %v", err)
		}
	})
}

// TestSignUpExisting: signing up with a taken address answers like a new
// sign-up, changes nothing and tells the owner.
func TestSignUpExisting(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := t.Context()
		if err := e.svc.SignUp(ctx, "owner@example.com", pw, meta(ip)); err != nil {
			t.Fatalf("SignUp: %v", err)
		}
		const other = "another password"
		for _, email := range []string{"owner@example.com", "Owner@Example.COM"} {
			if err := e.svc.SignUp(ctx, email, other, meta("203.0.113.5")); err != nil {
				t.Errorf("SignUp(%s) again: got %v, want nil", email, err)
			}
		}
		if _, err := e.svc.Login(ctx, "owner@example.com", pw, meta(ip)); err != nil {
			t.Errorf("the old password: %v", err)
		}
		_, err := e.svc.Login(ctx, "owner@example.com", other, meta(ip))
		wantCode(t, err, auth.CodeInvalidCredentials)
		as, err := e.svc.FindAccounts(ctx, "owner@")
		if err != nil || len(as) != 1 {
			t.Errorf("accounts: got %d, %v; want 1", len(as), err)
		}
		if got := len(e.notices("owner@example.com", subjectSignupExisting)); got != 2 {
			t.Errorf("notices to the owner: got %d, want 2", got)
		}
	})
}

var resetLink = regexp.MustCompile(`http://127\.0\.0\.1/password/reset\?token=(\S+)`)

// TestPasswordResetKeepsSecondFactor: a reset link proves the mailbox, not
// the second factor, so it signs nobody in and the code is still asked.
func TestPasswordResetKeepsSecondFactor(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := t.Context()
		a := e.account("forgot@example.com")
		e.enrolSeed20(a)
		full, err := e.signIn(a, "732303")
		if err != nil {
			t.Fatalf("sign in: %v", err)
		}

		if err := e.svc.RequestPasswordReset(ctx, "nobody@example.com", meta(ip)); err != nil {
			t.Errorf("RequestPasswordReset(unknown): got %v, want nil", err)
		}
		if n := len(e.messages()); n != 1 { // the 2FA enabled notice
			t.Errorf("messages after a reset for an unknown address: got %d, want 1", n)
		}
		token := e.requestReset(a.Email)
		const next = "a brand new password"
		if err := e.svc.ResetPassword(ctx, token, next, meta(ip)); err != nil {
			t.Fatalf("ResetPassword: %v", err)
		}
		_, _, err = e.svc.Authenticate(ctx, full)
		wantCode(t, err, auth.CodeUnauthenticated)

		r, err := e.svc.Login(ctx, a.Email, next, meta(ip))
		if err != nil || !r.SecondFactor {
			t.Fatalf("Login with the new password: got %+v, %v; want SecondFactor", r, err)
		}
		_, _, err = e.svc.RequireFull(ctx, r.Token)
		wantCode(t, err, auth.CodeUnauthenticated)
		_, err = e.svc.Login(ctx, a.Email, pw, meta(ip))
		wantCode(t, err, auth.CodeInvalidCredentials)

		err = e.svc.ResetPassword(ctx, token, "yet another password", meta(ip))
		wantCode(t, err, auth.CodeNotFound)

		late := e.requestReset(a.Email)
		e.clock.Add(30 * time.Minute)
		err = e.svc.ResetPassword(ctx, late, "yet another password", meta(ip))
		wantCode(t, err, auth.CodeNotFound)
	})
}

// requestReset asks for a reset link and returns the token e-mailed.
func (e *env) requestReset(email string) string {
	e.t.Helper()
	if err := e.svc.RequestPasswordReset(e.t.Context(), email, meta(ip)); err != nil {
		e.t.Fatalf("RequestPasswordReset: %v", err)
	}
	mails := e.notices(email, subjectResetLink)
	if len(mails) == 0 {
		e.t.Fatal("no reset link was e-mailed")
	}
	m := resetLink.FindStringSubmatch(mails[len(mails)-1].Text)
	if m == nil {
		e.t.Fatal("the reset e-mail holds no reset link")
	}
	token, err := url.QueryUnescape(m[1])
	if err != nil {
		e.t.Fatalf("reset link: %v", err)
	}
	return token
}

// TestReauthenticationThrottled: a stolen session cannot guess the
// password through the change-password or turn-off-2FA forms any faster
// than through the sign-in form.
func TestReauthenticationThrottled(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		a := e.account("session-thief@example.com")
		for i := range 10 {
			err := e.svc.ChangePassword(t.Context(), a, fmt.Sprintf("guess %d!", i), "new password 1",
				meta(ip))
			wantCode(t, err, auth.CodeInvalidCredentials)
		}
		err := e.svc.ChangePassword(t.Context(), a, pw, "new password 1", meta(ip))
		wantCode(t, err, auth.CodeThrottled)
		err = e.svc.DisableTwoFactor(t.Context(), a, pw, "123456", meta(ip))
		wantCode(t, err, auth.CodeThrottled)
	})
}

// TestThrottleRecorded: a sign-in refused by the account's throttle shows
// in the customer's security log.
func TestThrottleRecorded(t *testing.T) {
	e := newEnv(t, storetest.SQLite)
	a := e.account("logged@example.com")
	for i := range 10 {
		_, err := e.svc.Login(t.Context(), a.Email, "wrong password", meta(fmt.Sprintf("198.51.100.%d", i)))
		wantCode(t, err, auth.CodeInvalidCredentials)
	}
	_, err := e.svc.Login(t.Context(), a.Email, pw, meta(ip))
	wantCode(t, err, auth.CodeThrottled)
	events, err := e.svc.Events(t.Context(), a.ID, 0, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) == 0 || events[0].Kind != auth.EventThrottled {
		t.Fatalf("newest event: got %v, want %s", events, auth.EventThrottled)
	}
}

// TestSupportRequestsLimited: every request e-mails the customer, so a
// half-signed-in session cannot send them without end.
func TestSupportRequestsLimited(t *testing.T) {
	e := newEnv(t, storetest.SQLite)
	a := e.account("helpme@example.com")
	e.enrolSeed20(a)
	token := e.half(a)
	for i := range 3 {
		if err := e.svc.RequestSupport(t.Context(), token, "lost my phone", meta(ip)); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	err := e.svc.RequestSupport(t.Context(), token, "lost my phone", meta(ip))
	wantCode(t, err, auth.CodeThrottled)
	e.clock.Add(time.Hour)
	token = e.half(a) // the half-signed-in state lasts minutes, not an hour
	if err := e.svc.RequestSupport(t.Context(), token, "lost my phone", meta(ip)); err != nil {
		t.Errorf("an hour later: %v", err)
	}
}

// TestPasswordThrottleParallel: guesses sent at the same moment cannot
// slip past the limit by all passing the check before any is counted.
func TestPasswordThrottleParallel(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		a := e.account("parallel@example.com")
		count := func(codes []auth.Code) (wrong, throttled int) {
			for _, c := range codes {
				switch c {
				case auth.CodeInvalidCredentials:
					wrong++
				case auth.CodeThrottled:
					throttled++
				default:
					t.Errorf("unexpected answer %q", c)
				}
			}
			return wrong, throttled
		}
		codes := make([]auth.Code, 40)
		storetest.Race(len(codes), func(i int) {
			_, err := e.svc.Login(t.Context(), a.Email, fmt.Sprintf("guess %d!", i),
				meta(fmt.Sprintf("198.51.100.%d", i)))
			codes[i] = auth.ErrorCode(err)
		})
		if wrong, _ := count(codes); wrong != 10 {
			t.Errorf("one account from many addresses: %d passwords checked, want 10", wrong)
		}
		codes = make([]auth.Code, 40)
		storetest.Race(len(codes), func(i int) {
			_, err := e.svc.Login(t.Context(), fmt.Sprintf("nobody%d@example.com", i), pw,
				meta("203.0.113.77"))
			codes[i] = auth.ErrorCode(err)
		})
		if wrong, _ := count(codes); wrong != 20 {
			t.Errorf("one address, many accounts: %d passwords checked, want 20", wrong)
		}
	})
}

// TestResetLinksEndWithPasswordChange: a reset link mailed before the
// password changed, by another link or in settings, no longer works.
func TestResetLinksEndWithPasswordChange(t *testing.T) {
	e := newEnv(t, storetest.SQLite)
	a := e.account("links@example.com")
	early := e.requestReset(a.Email)
	if err := e.svc.ChangePassword(t.Context(), a, pw, "another password 1", meta(ip)); err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	err := e.svc.ResetPassword(t.Context(), early, "attacker password", meta(ip))
	wantCode(t, err, auth.CodeNotFound)

	first, second := e.requestReset(a.Email), e.requestReset(a.Email)
	if err := e.svc.ResetPassword(t.Context(), second, "reset password 1", meta(ip)); err != nil {
		t.Fatalf("ResetPassword: %v", err)
	}
	err = e.svc.ResetPassword(t.Context(), first, "attacker password", meta(ip))
	wantCode(t, err, auth.CodeNotFound)
}

func TestNormalizeEmail(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{" Alice@Example.COM ", "alice@example.com", true},
		{"bob+tag@xn--80a1acny.xn--p1ai", "bob+tag@xn--80a1acny.xn--p1ai", true},
		{"\u212aate@example.com", "", false},  // Kelvin sign, lower-cases to k
		{"a\u200b@example.com", "", false},    // zero-width space
		{"\u0430lice@example.com", "", false}, // Cyrillic a
		{"Alice <alice@example.com>", "", false},
		{"alice@", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := auth.NormalizeEmail(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("NormalizeEmail(%q): got %q, %v; want %q, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// TestKnownDeviceNotLockedOut: a guesser who starts the account's wait does
// not lock out a browser that signed in with the right password before.
func TestKnownDeviceNotLockedOut(t *testing.T) {
	e := newEnv(t, storetest.SQLite)
	a := e.account("known-device@example.com")
	res, err := e.svc.Login(t.Context(), a.Email, pw, meta(ip))
	if err != nil || res.Device == "" {
		t.Fatalf("Login: got device token %q, %v", res.Device, err)
	}
	for i := range 11 {
		_, err := e.svc.Login(t.Context(), a.Email, "guess!!", meta(fmt.Sprintf("198.51.100.%d", i)))
		if i == 10 {
			wantCode(t, err, auth.CodeThrottled)
		}
	}
	_, err = e.svc.Login(t.Context(), a.Email, pw, meta(ip))
	wantCode(t, err, auth.CodeThrottled)

	known := meta(ip)
	known.Device = res.Device
	if _, err := e.svc.Login(t.Context(), a.Email, pw, known); err != nil {
		t.Fatalf("the known browser during the guesser's wait: %v", err)
	}
	// A token of another address, or a made-up one, buys nothing: with
	// the other account in the guesser's wait too, the right password
	// with either token is throttled, as without one.
	other := e.account("other-device@example.com")
	for i := range 11 {
		_, err := e.svc.Login(t.Context(), other.Email, "guess!!", meta(fmt.Sprintf("198.51.100.%d", i)))
		if i == 10 {
			wantCode(t, err, auth.CodeThrottled)
		}
	}
	for _, token := range []string{res.Device, "made-up-token"} {
		m := meta(ip)
		m.Device = token
		_, err = e.svc.Login(t.Context(), other.Email, pw, m)
		wantCode(t, err, auth.CodeThrottled)
	}
}
