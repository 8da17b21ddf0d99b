package auth_test

import (
	"context"
	"fmt"
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

// hangUpAtRefund is the real store, except that the request's sender hangs
// up just as a correct password's places are given back.
type hangUpAtRefund struct {
	auth.Store
	hangUp atomic.Pointer[context.CancelFunc]
}

func (h *hangUpAtRefund) RefundThrottles(ctx context.Context, keys ...string) error {
	if f := h.hangUp.Load(); f != nil {
		(*f)()
	}
	return h.Store.RefundThrottles(ctx, keys...)
}

// TestRefundWhenSenderLeaves: a correct password whose sender hangs up as
// its places are given back has still not failed, so it uses up none of
// the account's budget: after nine wrong passwords and it, a tenth wrong
// one is still checked.
func TestRefundWhenSenderLeaves(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		real := storetest.Open(t, dialect)
		st := &hangUpAtRefund{Store: real}
		clock := storetest.NewClock(t0)
		cfg, outbox := storetest.Config(t, st, clock.Now)
		svc, err := auth.NewService(cfg)
		if err != nil {
			t.Fatal(err)
		}
		e := &env{t: t, st: real, svc: svc, clock: clock, outbox: outbox, rand: &pinnedRand{}}
		a := e.account("leaves@example.com")
		addr := 0
		next := func() auth.Meta { addr++; return meta(fmt.Sprintf("198.51.100.%d", addr)) }
		for range 9 {
			_, err := svc.Login(t.Context(), a.Email, "wrong password", next())
			wantCode(t, err, auth.CodeInvalidCredentials)
		}
		ctx, cancel := context.WithCancel(t.Context())
		st.hangUp.Store(&cancel)
		// Its sender has left, so what it is answered does not matter.
		svc.Login(ctx, a.Email, pw, next())
		st.hangUp.Store(nil)
		if ctx.Err() == nil {
			t.Fatal("the sender never hung up")
		}
		_, err = svc.Login(t.Context(), a.Email, "wrong password", next())
		wantCode(t, err, auth.CodeInvalidCredentials)
		_, err = svc.Login(t.Context(), a.Email, "wrong password", next())
		wantCode(t, err, auth.CodeThrottled)
	})
}
