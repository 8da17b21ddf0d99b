package auth_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clientarea/clientarea/internal/auth"
	"github.com/clientarea/clientarea/internal/oathtool"
	"github.com/clientarea/clientarea/internal/storetest"
)

// lockedBuffer collects log output; the Service may log from any goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// secrets gathers every secret a scenario handles, to search for later.
type secrets struct {
	t    *testing.T
	list []string
}

func (s *secrets) add(vs ...string) {
	for _, v := range vs {
		if v == "" {
			s.t.Fatal("secrets: empty value")
		}
		s.list = append(s.list, v)
	}
}

// addRecovery adds recovery codes as shown and as they could be typed.
func (s *secrets) addRecovery(codes []string) {
	for _, c := range codes {
		s.add(c, strings.ReplaceAll(c, "-", ""))
	}
}

// TestNoSecretsInMailOrLogs walks an account through every e-mailed event
// and then searches every message, every log line and every error for
// each password, secret, code, recovery code and session id it used.
func TestNoSecretsInMailOrLogs(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		clock := storetest.NewClock(t0)
		recent := func() auth.Session { return auth.Session{Stage: auth.StageFull, CreatedAt: clock.Now()} }
		cfg, outbox := storetest.Config(t, st, clock.Now)
		var logs lockedBuffer
		// Without the time, whose digits could match a six-digit code by chance.
		opts := &slog.HandlerOptions{Level: slog.LevelDebug,
			ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
				if len(groups) == 0 && a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			}}
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, opts))
		svc, err := auth.NewService(cfg)
		if err != nil {
			t.Fatalf("NewService: %v", err)
		}
		e := &env{t: t, st: st, svc: svc, clock: clock, outbox: outbox, rand: &pinnedRand{}}
		ctx := t.Context()
		s := &secrets{t: t}
		var errs []string
		fail := func(err error) {
			t.Helper()
			if err == nil {
				t.Fatal("want an error, got nil")
			}
			errs = append(errs, err.Error())
		}
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		half := func(a auth.Account, password, ip string) string {
			t.Helper()
			r, err := svc.Login(ctx, a.Email, password, meta(ip))
			must(err)
			s.add(r.Token)
			return r.Token
		}
		code := func(secret string) string {
			c := oathtool.TOTP(t, secret, clock.Now())
			s.add(c)
			return c
		}

		const email, pw1, pw2, pw3, taken = "walk@example.com", "first password 1",
			"second password 2", "third password 3", "sign-up over it 4"
		s.add(pw1, pw2, pw3, taken)
		must(svc.SignUp(ctx, email, pw1, meta(ip)))
		must(svc.SignUp(ctx, email, taken, meta(ip)))
		a, err := svc.AccountByEmail(ctx, email)
		must(err)
		fail(func() error { _, err := svc.Login(ctx, email, taken, meta(ip)); return err }())

		en, err := svc.BeginEnrolment(ctx, recent(), a)
		must(err)
		s.add(en.Secret, strings.ToLower(en.Secret))
		s.addRecovery(en.RecoveryCodes)
		first := code(en.Secret)
		fail(func() error {
			_, err := svc.ConfirmEnrolment(ctx, a, wrongCode(t, en.Secret, clock.Now()), meta(ip))
			return err
		}())
		_, err = svc.ConfirmEnrolment(ctx, a, first, meta(ip))
		must(err)

		clock.Add(30 * time.Second)
		second := code(en.Secret)
		full, err := svc.SecondFactor(ctx, half(a, pw1, ip), second, meta(ip))
		must(err)
		s.add(full)
		_, err = svc.SecondFactor(ctx, half(a, pw1, "198.51.100.7"), second, meta("198.51.100.7"))
		fail(err)
		next, _, err := svc.RecoverySignIn(ctx, half(a, pw1, ip), en.RecoveryCodes[0], meta(ip))
		must(err)
		s.add(next)

		clock.Add(30 * time.Second)
		fresh, err := svc.RegenerateRecoveryCodes(ctx, a, code(en.Secret), meta(ip))
		must(err)
		s.addRecovery(fresh)
		must(svc.ChangePassword(ctx, a, pw1, pw2, meta(ip)))

		clock.Add(30 * time.Second)
		device, err := svc.BeginEnrolment(ctx, recent(), a)
		must(err)
		s.add(device.Secret, strings.ToLower(device.Secret))
		_, err = svc.ConfirmEnrolment(ctx, a, code(device.Secret), meta(ip))
		must(err)
		must(svc.RequestSupport(ctx, half(a, pw2, ip), "I lost my phone", meta(ip)))

		clock.Add(30 * time.Second)
		fail(svc.DisableTwoFactor(ctx, a, pw2, wrongCode(t, device.Secret, clock.Now()), meta(ip)))
		must(svc.DisableTwoFactor(ctx, a, pw2, code(device.Secret), meta(ip)))

		again, err := svc.BeginEnrolment(ctx, recent(), a)
		must(err)
		s.add(again.Secret, strings.ToLower(again.Secret))
		s.addRecovery(again.RecoveryCodes)
		_, err = svc.ConfirmEnrolment(ctx, a, code(again.Secret), meta(ip))
		must(err)
		must(svc.ResetTwoFactor(ctx, email, "checked the passport", "op", meta(ip)))
		must(svc.ResetPassword(ctx, e.requestReset(email), pw3, meta(ip)))
		fail(svc.ResetPassword(ctx, "used-or-unknown-token", pw2, meta(ip)))

		msgs := e.messages()
		subjects := map[string]bool{}
		for _, m := range msgs {
			subjects[m.Subject] = true
			for _, v := range s.list {
				if strings.Contains(m.Subject, v) || strings.Contains(m.Text, v) {
					t.Errorf("e-mail %q holds a secret", m.Subject)
				}
			}
		}
		for _, want := range []string{subjectSignupExisting, subjectEnabled, subjectReplayed,
			subjectDisabled, subjectReset2FA, subjectResetLink, "A recovery code was used",
			"New recovery codes", "Your password was changed",
			"Two-factor authentication moved to a new device", "Confirm your request for help with signing in", "Your password was reset"} {
			if !subjects["Client Area: "+want] {
				t.Errorf("no e-mail %q was sent; the walk missed a notice", want)
			}
		}
		all := logs.String() + "\n" + strings.Join(errs, "\n")
		if !strings.Contains(all, "security event") {
			t.Error("the logs are empty; the search would prove nothing")
		}
		for _, v := range s.list {
			if strings.Contains(all, v) {
				t.Errorf("a log line or error holds a secret of length %d", len(v))
			}
		}
	})
}
