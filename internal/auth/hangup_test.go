package auth_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clientarea/clientarea/internal/auth"
	"github.com/clientarea/clientarea/internal/oathtool"
	"github.com/clientarea/clientarea/internal/store"
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
	return newEnvOn(t, st, st, hc.Clock, hc.Now), hc
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
			// In the attempt's transaction SecondFactor reads the clock
			// first to judge the half session (1), then for the guess,
			// once the counters are read (2): hang up at 2.
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

// hangUpStore is the real store, except that the request's sender hangs
// up, when a hang-up is set, just as the account is looked up for its
// password (atLookup) or as a right password's places are given back.
type hangUpStore struct {
	auth.Store
	hangUp   atomic.Pointer[context.CancelFunc]
	atLookup bool
}

func (h *hangUpStore) cancel() {
	if f := h.hangUp.Load(); f != nil {
		(*f)()
	}
}

func (h *hangUpStore) AccountByEmail(ctx context.Context, email string) (auth.Account, error) {
	if h.atLookup {
		h.cancel()
	}
	return h.Store.AccountByEmail(ctx, email)
}

func (h *hangUpStore) RefundThrottles(ctx context.Context, places ...auth.Place) error {
	if !h.atLookup {
		h.cancel()
	}
	return h.Store.RefundThrottles(ctx, places...)
}

// newWrappedEnv is newEnv with the service on wrap, a store around real.
func newWrappedEnv(t *testing.T, real *store.Store, wrap auth.Store) *env {
	t.Helper()
	clock := storetest.NewClock(t0)
	return newEnvOn(t, real, wrap, clock, clock.Now)
}

func newHangUpEnv(t *testing.T, dialect string, atLookup bool) (*env, *hangUpStore) {
	t.Helper()
	real := storetest.Open(t, dialect)
	st := &hangUpStore{Store: real, atLookup: atLookup}
	return newWrappedEnv(t, real, st), st
}

// accountBudgetLeft asserts that the account still has room for exactly
// left wrong passwords, each from its own address.
func accountBudgetLeft(t *testing.T, e *env, email string, left int, next func() auth.Meta) {
	t.Helper()
	for i := range left {
		_, err := e.svc.Login(t.Context(), email, "wrong password", next())
		if auth.ErrorCode(err) != auth.CodeInvalidCredentials {
			t.Fatalf("wrong password %d of %d left: got %v, want it checked", i+1, left, err)
		}
	}
	_, err := e.svc.Login(t.Context(), email, "wrong password", next())
	wantCode(t, err, auth.CodeThrottled)
}

// TestRefundWhenSenderLeaves: a correct password whose sender hangs up as
// its places are given back has still not failed, so it uses up none of
// the account's budget: after nine wrong passwords and it, a tenth wrong
// one is still checked.
func TestRefundWhenSenderLeaves(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		e, st := newHangUpEnv(t, dialect, false)
		a := e.account("leaves@example.com")
		next := newAddresses()
		for range 9 {
			_, err := e.svc.Login(t.Context(), a.Email, "wrong password", next())
			wantCode(t, err, auth.CodeInvalidCredentials)
		}
		ctx, cancel := context.WithCancel(t.Context())
		st.hangUp.Store(&cancel)
		// Its sender has left, so what it is answered does not matter.
		e.svc.Login(ctx, a.Email, pw, next())
		st.hangUp.Store(nil)
		if ctx.Err() == nil {
			t.Fatal("the sender never hung up")
		}
		accountBudgetLeft(t, e, a.Email, 1, next)
	})
}

// TestUnjudgedPasswordKeepsNoPlace: a password whose sender hangs up
// before it is checked was never judged, so it uses up no place, however
// often that happens.
func TestUnjudgedPasswordKeepsNoPlace(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		e, st := newHangUpEnv(t, dialect, true)
		a := e.account("unjudged@example.com")
		next := newAddresses()
		for i := range 15 {
			ctx, cancel := context.WithCancel(t.Context())
			st.hangUp.Store(&cancel)
			_, err := e.svc.Login(ctx, a.Email, pw, next())
			st.hangUp.Store(nil)
			if err == nil || ctx.Err() == nil {
				t.Fatalf("attempt %d: got %v; want the sender gone before the check", i+1, err)
			}
		}
		accountBudgetLeft(t, e, a.Email, 10, next)
	})
}

// holdAtLookup is the real store, except that the next lookups of an
// account by e-mail, which a password check makes once its places are
// taken, wait until release is closed (or, so that a broken service fails
// rather than hangs, ten seconds); holdNext says how many.
type holdAtLookup struct {
	auth.Store
	holdNext atomic.Int32
	held     atomic.Int32
	release  chan struct{}
}

func (h *holdAtLookup) AccountByEmail(ctx context.Context, email string) (auth.Account, error) {
	if h.holdNext.Add(-1) >= 0 {
		h.held.Add(1)
		select {
		case <-h.release:
		case <-time.After(10 * time.Second):
		}
	}
	return h.Store.AccountByEmail(ctx, email)
}

func newHoldEnv(t *testing.T, dialect string) (*env, *holdAtLookup) {
	t.Helper()
	real := storetest.Open(t, dialect)
	st := &holdAtLookup{Store: real, release: make(chan struct{})}
	return newWrappedEnv(t, real, st), st
}

// TestRightPasswordsAtOnce: more right passwords for one account than its
// limit has places, all at once. While the first ten are being checked,
// the rest are refused for a second (429); none of it is a failure, so
// no wait starts, nothing goes into the security log, and afterwards the
// account has every place.
func TestRightPasswordsAtOnce(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		e, st := newHoldEnv(t, dialect)
		a := e.account("at-once@example.com")
		const n, hold = 15, 10
		st.holdNext.Store(hold)
		errs := make([]error, n)
		var returned atomic.Int32
		storetest.Race(n, func(i int) {
			_, errs[i] = e.svc.Login(t.Context(), a.Email, pw, meta(fmt.Sprintf("198.51.100.%d", i+1)))
			if returned.Add(1) == n-hold {
				close(st.release)
			}
		})
		signedIn := 0
		for i, err := range errs {
			if err == nil {
				signedIn++
				continue
			}
			if got := wantCode(t, err, auth.CodeThrottled).RetryAfter; got != time.Second {
				t.Errorf("sign-in %d refused for %v, want 1s", i+1, got)
			}
		}
		if signedIn != hold {
			t.Errorf("%d signed in, want %d", signedIn, hold)
		}
		events, err := e.st.Events(t.Context(), a.ID, 0, 50)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range events {
			if ev.Kind == auth.EventThrottled || ev.Kind == auth.EventPasswordFailed {
				t.Errorf("security log holds %s", ev.Kind)
			}
		}
		next := 100
		accountBudgetLeft(t, e, a.Email, 10, func() auth.Meta {
			next++
			return meta(fmt.Sprintf("198.51.100.%d", next))
		})
	})
}

// TestPlacesStayInTheirWindow: right passwords whose places were taken just
// before an address's window ended finish just after it. Giving their
// places back must not free places in the new window, or a guesser who
// times it gets twice the limit checked in one window.
func TestPlacesStayInTheirWindow(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		e, st := newHoldEnv(t, dialect)
		const guesser, inFlight = "203.0.113.50", 19
		guess := func(i int) error {
			_, err := e.svc.Login(t.Context(), fmt.Sprintf("nobody%d@example.com", i),
				"wrong password", meta(guesser))
			return err
		}
		wantCode(t, guess(0), auth.CodeInvalidCredentials) // the address's window starts
		accounts := make([]auth.Account, inFlight)
		for i := range accounts {
			accounts[i] = e.account(fmt.Sprintf("own%d@example.com", i))
		}
		e.clock.Add(59 * time.Second)
		st.holdNext.Store(inFlight)
		done := make(chan error, inFlight)
		for _, a := range accounts {
			go func() {
				_, err := e.svc.Login(context.Background(), a.Email, pw, meta(guesser))
				done <- err
			}()
		}
		for deadline := time.Now().Add(10 * time.Second); st.held.Load() < inFlight; {
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d sign-ins reached the password check", st.held.Load(), inFlight)
			}
			time.Sleep(time.Millisecond)
		}
		e.clock.Add(time.Second) // the window has passed
		for i := range 20 {
			if err := guess(i + 1); auth.ErrorCode(err) != auth.CodeInvalidCredentials {
				t.Fatalf("guess %d of the new window: %v, want it checked", i+1, err)
			}
		}
		close(st.release)
		for range inFlight {
			if err := <-done; err != nil {
				t.Errorf("a right password: %v", err)
			}
		}
		wantCode(t, guess(21), auth.CodeThrottled)
	})
}

// TestPendingThenFailed: with nine failures and a tenth attempt still being
// checked, the account's window is full but not of failures: the next
// attempt is refused for a second and starts no wait. Once the tenth
// proves wrong, the next one starts the wait.
func TestPendingThenFailed(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		e, st := newHoldEnv(t, dialect)
		a := e.account("pending-then-failed@example.com")
		next := newAddresses()
		for range 9 {
			_, err := e.svc.Login(t.Context(), a.Email, "wrong password", next())
			wantCode(t, err, auth.CodeInvalidCredentials)
		}
		st.holdNext.Store(1)
		tenth := make(chan error, 1)
		go func() {
			_, err := e.svc.Login(context.Background(), a.Email, "wrong password", next())
			tenth <- err
		}()
		for deadline := time.Now().Add(10 * time.Second); st.held.Load() < 1; {
			if time.Now().After(deadline) {
				t.Fatal("the tenth attempt never reached the password check")
			}
			time.Sleep(time.Millisecond)
		}
		_, err := e.svc.Login(t.Context(), a.Email, pw, next())
		if got := wantCode(t, err, auth.CodeThrottled).RetryAfter; got != time.Second {
			t.Errorf("while the tenth is checked: refused for %v, want 1s", got)
		}
		close(st.release)
		wantCode(t, <-tenth, auth.CodeInvalidCredentials)
		_, err = e.svc.Login(t.Context(), a.Email, pw, next())
		if got := wantCode(t, err, auth.CodeThrottled).RetryAfter; got != 30*time.Second {
			t.Errorf("after ten failures: refused for %v, want the first wait, 30s", got)
		}
	})
}

// panicAtLookup is the real store, except that a password check's account
// lookup panics while armed.
type panicAtLookup struct {
	auth.Store
	armed atomic.Bool
}

func (p *panicAtLookup) AccountByEmail(ctx context.Context, email string) (auth.Account, error) {
	if p.armed.Load() {
		panic("the check broke")
	}
	return p.Store.AccountByEmail(ctx, email)
}

// TestPanicKeepsNoPlace: a password check that panics (the web layer
// answers 500 and the server goes on) gives its places back rather than
// leaving them pending for the rest of the window.
func TestPanicKeepsNoPlace(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		real := storetest.Open(t, dialect)
		st := &panicAtLookup{Store: real}
		e := newWrappedEnv(t, real, st)
		a := e.account("panics@example.com")
		next := newAddresses()
		st.armed.Store(true)
		for i := range 12 {
			func() {
				defer func() {
					if recover() == nil {
						t.Fatalf("attempt %d was refused before its check: the places of "+
							"the ones that panicked were not given back", i+1)
					}
				}()
				e.svc.Login(t.Context(), a.Email, pw, next())
			}()
		}
		st.armed.Store(false)
		accountBudgetLeft(t, e, a.Email, 10, next)
	})
}

// pauseAfterLock holds the first attempt that is armed right after it has
// locked its account, until resume is closed.
type pauseAfterLock struct {
	auth.Store
	armed  atomic.Bool
	paused chan struct{}
	resume chan struct{}
}

func (p *pauseAfterLock) Atomic(ctx context.Context, fn func(auth.Store) error) error {
	return p.Store.Atomic(ctx, func(st auth.Store) error { return fn(&pausingTx{Store: st, p: p}) })
}

type pausingTx struct {
	auth.Store
	p *pauseAfterLock
}

func (x *pausingTx) LockAccount(ctx context.Context, id int64) error {
	err := x.Store.LockAccount(ctx, id)
	if x.p.armed.CompareAndSwap(true, false) {
		close(x.p.paused)
		<-x.p.resume
	}
	return err
}

// TestCodeTakesNoSessionLockBeforeAccount: a code attempt locks its account
// before it writes to its session, so that a 2FA reset, which ends the
// account's sessions last, never waits for an attempt that then waits for
// it (on PostgreSQL, a deadlock one of them loses after a second, or a
// statement timeout and a failed reset). The half session is due for its
// idle-timer write, which once came first. The reset runs while the
// attempt is held right after its lock, and must finish meanwhile. SQLite
// runs one writer at a time, so only PostgreSQL can show it.
func TestCodeTakesNoSessionLockBeforeAccount(t *testing.T) {
	real := storetest.Open(t, storetest.Postgres)
	p := &pauseAfterLock{Store: real, paused: make(chan struct{}), resume: make(chan struct{})}
	e := newWrappedEnv(t, real, p)
	a := e.account("order@example.com")
	e.enrolSeed20(a)
	token := e.half(a)
	e.clock.Add(2 * time.Minute)
	code := oathtool.TOTP(t, seed20, e.clock.Now())

	p.armed.Store(true)
	codeErr := make(chan error, 1)
	go func() {
		_, err := e.svc.SecondFactor(context.Background(), token, code, meta(ip))
		codeErr <- err
	}()
	<-p.paused
	resetErr := make(chan error, 1)
	go func() {
		resetErr <- e.svc.ResetTwoFactor(context.Background(), a.Email, "ID checked", "support",
			meta("192.0.2.9"))
	}()
	select {
	case err := <-resetErr:
		if err != nil {
			t.Errorf("reset: %v", err)
		}
		close(p.resume)
	case <-time.After(10 * time.Second):
		t.Error("the reset waited for the held code attempt: the attempt holds a lock " +
			"on the session taken before its account's")
		close(p.resume)
		t.Logf("reset, once the attempt went on: %v", <-resetErr)
	}
	if err := <-codeErr; err == nil || auth.ErrorCode(err) == auth.CodeInternal {
		t.Errorf("code after the reset: got %v, want it refused and no internal error", err)
	}
}
