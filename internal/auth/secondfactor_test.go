package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/clientarea/clientarea/internal/auth"
	"github.com/clientarea/clientarea/internal/oathtool"
	"github.com/clientarea/clientarea/internal/storetest"
)

// TestCaseCodes checks the field cases' seed20 codes with oathtool, so that
// the literal codes in the tests below are known to be right.
func TestCaseCodes(t *testing.T) {
	tests := []struct {
		at   time.Time
		want string
	}{
		{t0.Add(-60 * time.Second), "276857"},
		{t0.Add(-30 * time.Second), "921300"},
		{t0, "732303"},
		{t0.Add(30 * time.Second), "136087"},
		{t0.Add(60 * time.Second), "253938"},
		{time.Unix(29, 0), "755224"},
		{time.Unix(59, 0), "287082"},
		{time.Unix(60, 0), "359152"},
	}
	for _, tt := range tests {
		if got := oathtool.TOTP(t, seed20, tt.at); got != tt.want {
			t.Errorf("oathtool at %d: got %s, want %s", tt.at.Unix(), got, tt.want)
		}
	}
}

// TestWindow is field case C09: codes one step either side of now are
// accepted, two steps are not, and the window moves with the clock.
func TestWindow(t *testing.T) {
	tests := []struct {
		name  string
		enrol time.Time // before any step a row sends
		at    time.Time
		code  string
		ok    bool
	}{
		{"N-2", t0.Add(-enrolLead), t0, "276857", false},
		{"N-1", t0.Add(-enrolLead), t0, "921300", true},
		{"N", t0.Add(-enrolLead), t0, "732303", true},
		{"N+1", t0.Add(-enrolLead), t0, "136087", true},
		{"N+2", t0.Add(-enrolLead), t0, "253938", false},
		{"T=59 code at T=60", time.Unix(5, 0), time.Unix(60, 0), "287082", true},
		{"T=59 code at T=90", time.Unix(5, 0), time.Unix(90, 0), "287082", false},
	}
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e := newEnv(t, dialect)
				a := e.account("window@example.com")
				e.enrolSeed20At(a, tt.enrol)
				e.clock.Set(tt.at)

				full, err := e.signIn(a, tt.code)
				if !tt.ok {
					wantCode(t, err, auth.CodeInvalidCode)
					return
				}
				if err != nil {
					t.Fatalf("SecondFactor(%s): %v", tt.code, err)
				}
				if _, _, err := e.svc.RequireFull(t.Context(), full); err != nil {
					t.Errorf("RequireFull after the code: %v", err)
				}
			})
		}
	})
}

// TestReplay is field cases C10 and C11: a code, or any code of a step not
// after the last accepted one, never signs in twice, even after a new
// password step and while it is still inside the window.
func TestReplay(t *testing.T) {
	type attempt struct {
		after time.Duration // since t0
		code  string
		ok    bool
	}
	tests := []struct {
		name     string
		attempts []attempt
	}{
		{"C10 same code after a new password step", []attempt{
			{2 * time.Second, "732303", true},
			{7 * time.Second, "732303", false},
			{31 * time.Second, "136087", true},
		}},
		{"C11 replay inside the window", []attempt{
			{1 * time.Second, "136087", true},
			{1 * time.Second, "732303", false}, // an earlier step
			{1 * time.Second, "921300", false},
			{85 * time.Second, "136087", false},
			{85 * time.Second, "253938", true},
		}},
	}
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e := newEnv(t, dialect)
				a := e.account("replay@example.com")
				e.enrolSeed20(a)
				for _, at := range tt.attempts {
					e.clock.Set(t0.Add(at.after))
					_, err := e.signIn(a, at.code)
					if at.ok && err != nil {
						t.Fatalf("%s at t0+%v: %v", at.code, at.after, err)
					}
					if !at.ok {
						wantCode(t, err, auth.CodeInvalidCode)
					}
				}
			})
		}
	})
}

// TestParallelCodes is field case C12: of 30 half-signed-in sessions that
// send one valid code at once exactly one signs in, and the same for one
// recovery code.
func TestParallelCodes(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		a := e.account("parallel@example.com")
		recovery := e.enrolSeed20(a)
		const n = 30

		signIn := func(step func(token string) (string, error)) {
			t.Helper()
			tokens := make([]string, n)
			for i := range tokens {
				tokens[i] = e.half(a)
			}
			full := make([]string, n)
			errs := make([]error, n)
			storetest.Race(n, func(i int) { full[i], errs[i] = step(tokens[i]) })
			won := 0
			for i, err := range errs {
				switch auth.ErrorCode(err) {
				case auth.CodeInvalidCode, auth.CodeThrottled, auth.CodeBusy:
					// Lost the race, or was held back by the guessing limit.
				default:
					if err != nil {
						t.Errorf("session %d: %v", i, err)
						continue
					}
					won++
					if _, _, err := e.svc.RequireFull(t.Context(), full[i]); err != nil {
						t.Errorf("session %d: RequireFull: %v", i, err)
					}
				}
			}
			if won != 1 {
				t.Errorf("sessions signed in: got %d, want 1", won)
			}
		}

		signIn(func(token string) (string, error) {
			return e.svc.SecondFactor(t.Context(), token, "732303", meta(ip))
		})
		signIn(func(token string) (string, error) {
			full, _, err := e.svc.RecoverySignIn(t.Context(), token, recovery[0], meta(ip))
			return full, err
		})
		if got := e.twoFactor(a).RecoveryCodesLeft; got != 9 {
			t.Errorf("recovery codes left: got %d, want 9", got)
		}
	})
}

// TestGuessingLimit is field case C13: wrong codes are limited per account,
// across password steps and sessions, with a growing wait that ends, and a
// hard limit that only a recovery code (or support) lifts.
func TestGuessingLimit(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		t.Run("five wrong then the right code", func(t *testing.T) {
			e := newEnv(t, dialect)
			a := e.account("guess@example.com")
			e.enrolSeed20(a)
			token := e.half(a)
			for _, code := range []string{"000000", "111111", "123456", "654321", "999999"} {
				_, err := e.svc.SecondFactor(t.Context(), token, code, meta(ip))
				wantCode(t, err, auth.CodeInvalidCode)
			}
			_, err := e.svc.SecondFactor(t.Context(), token, "732303", meta(ip))
			if got := wantCode(t, err, auth.CodeThrottled).RetryAfter; got != 30*time.Second {
				t.Errorf("RetryAfter: got %v, want 30s", got)
			}

			// A new password step, from a new session and address, waits too.
			other := e.half(a)
			_, err = e.svc.SecondFactor(t.Context(), other, "732303", meta("198.51.100.7"))
			wantCode(t, err, auth.CodeThrottled)

			e.clock.Add(30 * time.Second)
			if _, err := e.svc.SecondFactor(t.Context(), other, "136087", meta(ip)); err != nil {
				t.Errorf("the right code after the wait: %v", err)
			}
		})

		t.Run("the wait grows to 15 minutes", func(t *testing.T) {
			e := newEnv(t, dialect)
			a := e.account("grow@example.com")
			e.enrolSeed20(a)
			for range 5 {
				_, err := e.signIn(a, wrongCode(t, seed20, e.clock.Now()))
				wantCode(t, err, auth.CodeInvalidCode)
			}
			waits := []time.Duration{30, 60, 120, 240, 480, 900, 900}
			for i, want := range waits {
				want *= time.Second
				_, err := e.signIn(a, oathtool.TOTP(t, seed20, e.clock.Now()))
				if got := wantCode(t, err, auth.CodeThrottled).RetryAfter; got != want {
					t.Fatalf("wait %d: got %v, want %v", i+1, got, want)
				}
				e.clock.Add(want - time.Second)
				_, err = e.signIn(a, oathtool.TOTP(t, seed20, e.clock.Now()))
				wantCode(t, err, auth.CodeThrottled)
				e.clock.Add(time.Second)
				_, err = e.signIn(a, wrongCode(t, seed20, e.clock.Now()))
				wantCode(t, err, auth.CodeInvalidCode)
			}
		})

		t.Run("100 wrong codes lock TOTP until a recovery code", func(t *testing.T) {
			e := newEnv(t, dialect)
			a := e.account("lock@example.com")
			recovery := e.enrolSeed20(a)
			for wrong := 0; wrong < 100; {
				_, err := e.signIn(a, wrongCode(t, seed20, e.clock.Now()))
				switch auth.ErrorCode(err) {
				case auth.CodeInvalidCode:
					wrong++
				case auth.CodeThrottled:
					e.clock.Add(wantCode(t, err, auth.CodeThrottled).RetryAfter)
				default:
					t.Fatalf("wrong code %d: got %v, want invalid code or throttled", wrong+1, err)
				}
			}
			_, err := e.signIn(a, oathtool.TOTP(t, seed20, e.clock.Now()))
			e.clock.Add(wantCode(t, err, auth.CodeThrottled).RetryAfter)
			_, err = e.signIn(a, oathtool.TOTP(t, seed20, e.clock.Now()))
			wantCode(t, err, auth.CodeLocked)
			e.clock.Add(time.Hour)
			_, err = e.signIn(a, oathtool.TOTP(t, seed20, e.clock.Now()))
			wantCode(t, err, auth.CodeLocked)

			_, left, err := e.svc.RecoverySignIn(t.Context(), e.half(a), recovery[0], meta(ip))
			if err != nil || left != 9 {
				t.Fatalf("RecoverySignIn while locked: got %d left, %v; want 9", left, err)
			}
			if _, err := e.signIn(a, oathtool.TOTP(t, seed20, e.clock.Now())); err != nil {
				t.Errorf("TOTP after the recovery code: %v", err)
			}
		})
	})
}

// TestCodeFormat: malformed input is answered with its own code and costs
// no guess, and typed spacing is accepted (field cases C07, C08).
func TestCodeFormat(t *testing.T) {
	malformed := []string{"", "0", "32303", "7323030", "abcdef", "287-082", "73230３",
		strings.Repeat("7", 10000), "７３２３０３", "+732303", "732303.", "0x7323"}
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		a := e.account("format@example.com")
		recovery := e.enrolSeed20(a)
		token := e.half(a)
		for i := range 20 {
			code := malformed[i%len(malformed)]
			_, err := e.svc.SecondFactor(t.Context(), token, code, meta(ip))
			wantCode(t, err, auth.CodeInvalidCodeFormat)
			_, _, err = e.svc.RecoverySignIn(t.Context(), token, "not a code!", meta(ip))
			wantCode(t, err, auth.CodeInvalidCodeFormat)
		}
		if _, err := e.svc.SecondFactor(t.Context(), token, " 732 303\n", meta(ip)); err != nil {
			t.Fatalf("a spaced right code after 40 malformed ones: %v", err)
		}

		e.clock.Add(30 * time.Second)
		if _, err := e.signIn(a, "\t136087"); err != nil {
			t.Errorf("SecondFactor(tab, code): %v", err)
		}
		_, err := e.signIn(a, "136 087")
		wantCode(t, err, auth.CodeInvalidCode) // spaced, but the same step again
		lower := strings.ToLower(strings.ReplaceAll(recovery[1], "-", " "))
		if _, _, err := e.svc.RecoverySignIn(t.Context(), e.half(a), lower, meta(ip)); err != nil {
			t.Errorf("RecoverySignIn(lower case, spaced): %v", err)
		}
	})
}

// TestRecoveryCodes is field case C14: each recovery code signs in once.
func TestRecoveryCodes(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		a := e.account("recovery@example.com")
		codes := e.enrolSeed20(a)
		if len(codes) != 10 {
			t.Fatalf("recovery codes: got %d, want 10", len(codes))
		}
		if got := e.twoFactor(a).RecoveryCodesLeft; got != 10 {
			t.Fatalf("left before: got %d, want 10", got)
		}
		steps := []struct {
			code string
			ok   bool
			left int
		}{
			{codes[0], true, 9},
			{codes[0], false, 9},
			{codes[1], true, 8},
		}
		for i, s := range steps {
			full, left, err := e.svc.RecoverySignIn(t.Context(), e.half(a), s.code, meta(ip))
			switch {
			case s.ok && err != nil:
				t.Fatalf("step %d: RecoverySignIn: %v", i+1, err)
			case s.ok:
				if left != s.left {
					t.Errorf("step %d: left: got %d, want %d", i+1, left, s.left)
				}
				sess, _, err := e.svc.RequireFull(t.Context(), full)
				if err != nil || !sess.ViaRecovery {
					t.Errorf("step %d: session: got %+v, %v; want full, via recovery",
						i+1, sess, err)
				}
			default:
				wantCode(t, err, auth.CodeInvalidCode)
			}
			if got := e.twoFactor(a).RecoveryCodesLeft; got != s.left {
				t.Errorf("step %d: RecoveryCodesLeft: got %d, want %d", i+1, got, s.left)
			}
		}
	})
}

// TestReplayNotice: a used code from another session means someone else
// may have seen it, and the customer is told; a double click is not news.
func TestReplayNotice(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		a := e.account("notice@example.com")
		e.enrolSeed20(a)
		replayed := func() int { t.Helper(); return len(e.notices(a.Email, subjectReplayed)) }

		first := e.half(a)
		full, err := e.svc.SecondFactor(t.Context(), first, "732303", meta(ip))
		if err != nil {
			t.Fatalf("SecondFactor: %v", err)
		}
		if got := replayed(); got != 0 {
			t.Fatalf("notices after one use: got %d, want 0", got)
		}

		_, err = e.svc.SecondFactor(t.Context(), e.half(a), "732303", meta("198.51.100.7"))
		wantCode(t, err, auth.CodeInvalidCode)
		if got := replayed(); got != 1 {
			t.Fatalf("notices after a replay from another session: got %d, want 1", got)
		}
		// Replaying on and on does not flood the mailbox: one notice an hour.
		for range 5 {
			_, err = e.svc.SecondFactor(t.Context(), e.half(a), "732303", meta("198.51.100.7"))
			wantCode(t, err, auth.CodeInvalidCode)
		}
		if got := replayed(); got != 1 {
			t.Fatalf("notices after six replays: got %d, want 1", got)
		}

		// A double click: the same session and address send one code twice.
		e.clock.Add(30 * time.Second)
		m := meta(ip)
		m.Session = auth.HashToken(full)
		if _, err := e.svc.RegenerateRecoveryCodes(t.Context(), a, "136087", m); err != nil {
			t.Fatalf("RegenerateRecoveryCodes: %v", err)
		}
		_, err = e.svc.RegenerateRecoveryCodes(t.Context(), a, "136087", m)
		wantCode(t, err, auth.CodeInvalidCode)

		// A double click at sign-in: two requests of one session at once.
		e.clock.Add(30 * time.Second)
		token := e.half(a)
		errs := make([]error, 2)
		storetest.Race(2, func(i int) {
			_, errs[i] = e.svc.SecondFactor(t.Context(), token, "253938", meta(ip))
		})
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Errorf("double click: got %v and %v, want exactly one success", errs[0], errs[1])
		}
		if got := replayed(); got != 1 {
			t.Errorf("notices after double clicks: got %d, want still 1", got)
		}

		kinds := map[auth.EventKind]int{}
		for _, ev := range e.events(a) {
			kinds[ev.Kind]++
		}
		if kinds[auth.EventCodeReplayed] < 2 {
			t.Errorf("code_replayed events: got %d, want at least 2",
				kinds[auth.EventCodeReplayed])
		}
	})
}

// TestParallelGuesses: wrong codes sent all at once are counted one after
// another, so no more of them are checked than the limit allows in a row
// (FreeFailures), however many arrive together.
func TestParallelGuesses(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		a := e.account("together@example.com")
		e.enrolSeed20(a)
		const n = 40
		now := e.clock.Now()
		codes := make([]string, n)
		tokens := make([]string, n)
		for i := range codes {
			codes[i] = wrongCode(t, seed20, now)
			tokens[i] = e.half(a)
		}
		errs := make([]error, n)
		storetest.Race(n, func(i int) {
			_, errs[i] = e.svc.SecondFactor(t.Context(), tokens[i], codes[i], meta(ip))
		})
		checked := 0
		for i, err := range errs {
			switch auth.ErrorCode(err) {
			case auth.CodeThrottled:
			case auth.CodeInvalidCode:
				checked++
			default:
				t.Errorf("attempt %d: %v", i, err)
			}
		}
		if free := e.svc.Policy().FreeFailures; checked != free {
			t.Errorf("attempts checked: got %d of %d sent at once, want %d", checked, n, free)
		}
	})
}

// TestGuessCountedWithoutAnswer: a guess whose sender hangs up before the
// answer is counted all the same, or hanging up would make guesses free.
func TestGuessCountedWithoutAnswer(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		a := e.account("hangup@example.com")
		e.enrolSeed20(a)
		gone, cancel := context.WithCancel(t.Context())
		cancel()
		free := e.svc.Policy().FreeFailures
		for range free {
			e.svc.SecondFactor(gone, e.half(a), wrongCode(t, seed20, e.clock.Now()), meta(ip))
		}
		_, err := e.signIn(a, oathtool.TOTP(t, seed20, e.clock.Now()))
		wantCode(t, err, auth.CodeThrottled)
	})
}

// TestExpiredHalfSessionEnded sends a code for a half session past its
// window: the answer is "sign in first", and the session is deleted, not
// kept by the refused attempt's rollback.
func TestExpiredHalfSessionEnded(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		a := e.account("expired@example.com")
		e.enrolSeed20(a)
		token := e.half(a)
		e.clock.Set(t0.Add(auth.DefaultPolicy().HalfSignInWindow + time.Second))
		_, err := e.svc.SecondFactor(t.Context(), token, "732303", meta(ip))
		wantCode(t, err, auth.CodeUnauthenticated)
		if _, _, err := e.st.Session(t.Context(), auth.HashToken(token)); !errors.Is(err,
			auth.ErrNotFound) {
			t.Errorf("the expired half session after SecondFactor: Session = %v, want ErrNotFound",
				err)
		}
	})
}
