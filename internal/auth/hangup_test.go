package auth_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clientarea/clientarea/internal/auth"
	"github.com/clientarea/clientarea/internal/oathtool"
	"github.com/clientarea/clientarea/internal/storetest"
)

// hookClock is a test clock that calls hook, when set, on every reading.
type hookClock struct {
	*storetest.Clock
	hook atomic.Pointer[func()]
}

func (h *hookClock) Now() time.Time {
	if f := h.hook.Load(); f != nil {
		(*f)()
	}
	return h.Clock.Now()
}

func newHookEnv(t *testing.T, dialect string) (*env, *hookClock) {
	t.Helper()
	st := storetest.Open(t, dialect)
	hc := &hookClock{Clock: storetest.NewClock(t0)}
	cfg, outbox := storetest.Config(t, st, hc.Now)
	r := &pinnedRand{}
	cfg.Rand = r
	svc, err := auth.NewService(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, st: st, svc: svc, clock: hc.Clock, outbox: outbox, rand: r}, hc
}

// TestGuessCountedWhenSenderLeavesMidCheck: the sender hangs up while its
// code is being checked, after the counters were read and before they are
// written. The code was compared with the secret, so the guess counts: the
// attempt's statements do not use the request's context.
func TestGuessCountedWhenSenderLeavesMidCheck(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		e, hc := newHookEnv(t, dialect)
		a := e.account("hangup-mid@example.com")
		e.enrolSeed20(a)
		free := e.svc.Policy().FreeFailures
		for i := range free + 3 {
			ctx, cancel := context.WithCancel(t.Context())
			var reads atomic.Int32
			// SecondFactor reads the clock in Authenticate (1) and once in
			// the attempt's transaction, for the guess and the check that
			// follows (2): hang up at 2, inside the attempt.
			f := func() {
				if reads.Add(1) == 2 {
					cancel()
				}
			}
			token := e.half(a)
			hc.hook.Store(&f)
			_, err := e.svc.SecondFactor(ctx, token, wrongCode(t, seed20, e.clock.Now()), meta(ip))
			hc.hook.Store(nil)
			cancel()
			// Without the hang-up this would be a plain wrong-code test.
			if n := reads.Load(); n < 2 {
				t.Fatalf("SecondFactor read the clock %d times; the hang-up at 2 never came", n)
			}
			want := auth.CodeInvalidCode
			if i >= free {
				want = auth.CodeThrottled
			}
			wantCode(t, err, want)
		}
		_, err := e.signIn(a, oathtool.TOTP(t, seed20, e.clock.Now()))
		wantCode(t, err, auth.CodeThrottled)
	})
}
