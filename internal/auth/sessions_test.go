package auth_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clientarea/clientarea/internal/auth"
	"github.com/clientarea/clientarea/internal/oathtool"
	"github.com/clientarea/clientarea/internal/storetest"
)

func TestSessionLifetimes(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		t.Run("idle timeout", func(t *testing.T) {
			e := newEnv(t, dialect)
			token := e.login(e.account("idle@example.com")).Token
			for _, idle := range []time.Duration{29 * time.Minute, 29 * time.Minute} {
				e.clock.Add(idle)
				if _, _, err := e.svc.RequireFull(t.Context(), token); err != nil {
					t.Fatalf("after %v idle: %v", idle, err)
				}
			}
			e.clock.Add(31 * time.Minute)
			_, _, err := e.svc.RequireFull(t.Context(), token)
			wantCode(t, err, auth.CodeUnauthenticated)
			e.clock.Add(-31 * time.Minute) // the session was ended, not just refused
			_, _, err = e.svc.RequireFull(t.Context(), token)
			wantCode(t, err, auth.CodeUnauthenticated)
		})

		t.Run("absolute lifetime", func(t *testing.T) {
			e := newEnv(t, dialect)
			token := e.login(e.account("busy@example.com")).Token
			end := e.clock.Now().Add(12 * time.Hour)
			for e.clock.Add(20 * time.Minute).Before(end) {
				if _, _, err := e.svc.RequireFull(t.Context(), token); err != nil {
					t.Fatalf("at %v: %v", e.clock.Now().Sub(t0), err)
				}
			}
			e.clock.Set(end.Add(-time.Second))
			if _, _, err := e.svc.RequireFull(t.Context(), token); err != nil {
				t.Fatalf("a second before 12h: %v", err)
			}
			e.clock.Set(end)
			_, _, err := e.svc.RequireFull(t.Context(), token)
			wantCode(t, err, auth.CodeUnauthenticated)
		})

		t.Run("half sign-in window", func(t *testing.T) {
			e := newEnv(t, dialect)
			a := e.account("slow@example.com")
			e.enrolSeed20(a)
			early, late := e.half(a), e.half(a)
			e.clock.Add(5*time.Minute - time.Second)
			code := oathtool.TOTP(t, seed20, e.clock.Now())
			if _, err := e.svc.SecondFactor(t.Context(), early, code, meta(ip)); err != nil {
				t.Fatalf("code after 4m59s: %v", err)
			}
			e.clock.Add(time.Second)
			code = oathtool.TOTP(t, seed20, e.clock.Now().Add(30*time.Second))
			_, err := e.svc.SecondFactor(t.Context(), late, code, meta(ip))
			wantCode(t, err, auth.CodeUnauthenticated)
		})
	})
}

func TestRequireFull(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := t.Context()
		a := e.account("stage@example.com")
		e.enrolSeed20(a)
		half := e.half(a)

		sess, got, err := e.svc.Authenticate(ctx, half)
		if err != nil || sess.Stage != auth.StagePassword || got.ID != a.ID {
			t.Fatalf("Authenticate(half): got %+v, %v; want stage password", sess, err)
		}
		_, _, err = e.svc.RequireFull(ctx, half)
		wantCode(t, err, auth.CodeUnauthenticated)
		for _, token := range []string{"", "nonsense", string(make([]byte, 200))} {
			_, _, err := e.svc.RequireFull(ctx, token)
			wantCode(t, err, auth.CodeUnauthenticated)
		}

		full, err := e.svc.SecondFactor(ctx, half, "732303", meta(ip))
		if err != nil {
			t.Fatalf("SecondFactor: %v", err)
		}
		if full == half {
			t.Error("the full session kept the half session's id")
		}
		_, _, err = e.svc.Authenticate(ctx, half)
		wantCode(t, err, auth.CodeUnauthenticated)
		sess, _, err = e.svc.RequireFull(ctx, full)
		if err != nil || sess.Stage != auth.StageFull {
			t.Fatalf("RequireFull(full): got %+v, %v", sess, err)
		}
		if err := e.svc.Logout(ctx, full); err != nil {
			t.Fatalf("Logout: %v", err)
		}
		_, _, err = e.svc.RequireFull(ctx, full)
		wantCode(t, err, auth.CodeUnauthenticated)
	})
}

// countAtomic counts the transactions a service opens.
type countAtomic struct {
	auth.Store
	n atomic.Int32
}

func (c *countAtomic) Atomic(ctx context.Context, fn func(auth.Store) error) error {
	c.n.Add(1)
	return c.Store.Atomic(ctx, fn)
}

// TestImplausibleTokenTakesNoTurn: a code sent with no session id, or one
// longer than any session id, is refused without a transaction, which on
// SQLite would take a turn on the one writer; one that merely matches no
// session is refused inside it.
func TestImplausibleTokenTakesNoTurn(t *testing.T) {
	real := storetest.Open(t, storetest.SQLite)
	st := &countAtomic{Store: real}
	e := newWrappedEnv(t, real, st)
	for _, token := range []string{"", strings.Repeat("a", 129)} {
		_, err := e.svc.SecondFactor(t.Context(), token, "123456", meta(ip))
		wantCode(t, err, auth.CodeUnauthenticated)
		_, _, err = e.svc.RecoverySignIn(t.Context(), token, "abcd-efgh-ijkl", meta(ip))
		wantCode(t, err, auth.CodeUnauthenticated)
	}
	if n := st.n.Load(); n != 0 {
		t.Errorf("implausible session ids opened %d transactions, want 0", n)
	}
	_, err := e.svc.SecondFactor(t.Context(), strings.Repeat("a", 43), "123456", meta(ip))
	wantCode(t, err, auth.CodeUnauthenticated)
	if n := st.n.Load(); n != 1 {
		t.Errorf("an unknown session id opened %d transactions, want 1", n)
	}
}
