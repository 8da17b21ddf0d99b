package auth

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/clientarea/clientarea/internal/mail"
	"github.com/clientarea/clientarea/internal/recoverycode"
	"github.com/clientarea/clientarea/internal/totp"
)

// skew is how many 30-second steps either side of now a code may be from:
// one, so a code typed just as it changes still works.
const skew = 1

var (
	errWrongCode = Errorf(CodeInvalidCode,
		"that code is not right; wait for the next code and try again, "+
			"and check that the phone's time is set automatically")
	errCodeFormat     = Errorf(CodeInvalidCodeFormat, "enter the six digits your app shows")
	errRecoveryFormat = Errorf(CodeInvalidCodeFormat,
		"enter a recovery code as it is written in your saved key file")
	errWrongRecovery = Errorf(CodeInvalidCode, "that recovery code is wrong or already used")
	// errSignedIn answers a code sent for a session that needs none.
	errSignedIn = Errorf(CodeConflict, "already signed in")
	errLocked   = Errorf(CodeLocked, "sign-in with codes is locked after too many wrong "+
		"codes; use a recovery code or ask support for help")
)

// outcome is how a checked code ended.
type outcome int

const (
	wrong    outcome = iota // counted as a guess
	accepted                // every counter is cleared
	replayed                // not counted: a replay is not a guess
)

// factorTx is one second-factor attempt and the transaction it is decided
// in: its service reads and writes through the transaction, and what must
// wait for the commit (logs, metrics, e-mail) is noted for settle.
type factorTx struct {
	s          *Service
	recovery   bool
	outcome    outcome
	events     []Event // stored in the transaction, logged after it
	warnReplay bool    // the code was used before from elsewhere
	codesLeft  int     // recovery codes left after an accepted one
}

// attempt runs fn, which checks one code, in one transaction. Everything
// an accepted code changes (its step, the guessing counters, the session,
// the security log) commits together or not at all. The context fn gets,
// and so every statement of the attempt, is not cancelled with the
// request: a guess is counted whether or not its sender waits for the
// answer. The databases' own timeouts bound it.
func (s *Service) attempt(ctx context.Context, recovery bool,
	fn func(context.Context, *factorTx) error) (*factorTx, error) {
	ctx = context.WithoutCancel(ctx)
	var t *factorTx
	err := s.store.Atomic(ctx, func(st Store) error {
		t = &factorTx{s: s.within(st), recovery: recovery}
		return fn(ctx, t)
	})
	switch ErrorCode(err) {
	case "":
		return t, nil
	case CodeThrottled:
		s.metrics.Throttled("second_factor")
	case CodeLocked:
		s.metrics.SecondFactor("locked")
	case CodeInternal:
		var e *Error
		if !errors.As(err, &e) {
			err = internal("second factor", err)
		}
	}
	return nil, err
}

// within returns a copy of s whose store is st, so that the service's own
// methods can run inside a transaction of Atomic.
func (s *Service) within(st Store) *Service {
	c := *s
	c.store = st
	return &c
}

// record stores a security event in the attempt's transaction.
func (t *factorTx) record(ctx context.Context, accountID int64, kind EventKind, m Meta, detail string) error {
	e := t.s.event(accountID, kind, m, detail)
	if err := t.s.store.AddEvent(ctx, e); err != nil {
		return internal("security event", err)
	}
	t.events = append(t.events, e)
	return nil
}

// guess decides one attempt under the guessing limits. It locks the
// account first, so that attempts on one account, however many arrive at
// once and on whichever instance, are decided one after another, each
// seeing every earlier one counted: of many guesses sent at once, the
// first few are checked and the rest wait. For a TOTP code, the hard
// limit of NIST SP 800-63B applies as well.
func (t *factorTx) guess(ctx context.Context, a Account, m Meta,
	check func() (outcome, error)) error {
	st, p := t.s.store, t.s.policy
	if err := st.LockAccount(ctx, a.ID); err != nil {
		return internal("lock account", err)
	}
	g, err := st.FactorGuard(ctx, a.ID)
	if err != nil {
		return internal("factor guard", err)
	}
	now := t.s.now()
	if wait := g.WaitUntil.Sub(now); wait > 0 {
		return throttled(wait)
	}
	if !t.recovery && g.Total >= p.FactorHardLimit {
		return errLocked
	}
	o, err := check()
	if err != nil {
		return err
	}
	next := g
	switch o {
	case accepted:
		next.Consecutive, next.Total, next.WaitUntil = 0, 0, time.Time{}
	case wrong:
		next.Consecutive++
		next.Total++
		if next.Consecutive >= p.FreeFailures {
			n := next.Consecutive - p.FreeFailures
			next.WaitUntil = now.Add(backoff(p.FactorWait, p.FactorMaxWait, n))
		}
	}
	if next.Consecutive != g.Consecutive || next.Total != g.Total || !next.WaitUntil.Equal(g.WaitUntil) {
		next.Version++
		ok, err := st.SwapFactorGuard(ctx, next)
		if err != nil {
			return internal("factor guard", err)
		}
		if !ok {
			// Only a change that does not lock the account, such as a new
			// device being confirmed at this very moment, can get here.
			return errContended
		}
	}
	t.outcome = o
	detail := ""
	if t.recovery {
		detail = "recovery code"
	}
	switch {
	case o == replayed && !t.recovery:
		return t.record(ctx, a.ID, EventCodeReplayed, m, "")
	case o == accepted:
		return nil
	}
	if err := t.record(ctx, a.ID, EventCodeFailed, m, detail); err != nil {
		return err
	}
	// Once per wait, not for every refused attempt, or the customer's
	// security log would fill with them.
	if o == wrong && next.Consecutive >= p.FreeFailures {
		return t.record(ctx, a.ID, EventThrottled, m, "second factor")
	}
	return nil
}

// checkTOTP accepts a code of one of the account's active authenticator
// apps at most once.
func (t *factorTx) checkTOTP(ctx context.Context, a Account, code string, m Meta) error {
	return t.guess(ctx, a, m, func() (outcome, error) {
		creds, err := t.s.store.Credentials(ctx, a.ID)
		if err != nil {
			return wrong, internal("check code", err)
		}
		now := t.s.now()
		for _, c := range creds {
			if c.Status != StatusActive || c.Kind != KindTOTP {
				continue
			}
			secret, err := t.s.keys.Open(c.Secret, SecretAD(a.ID))
			if err != nil {
				return wrong, internal("open secret", err)
			}
			step, ok := totp.Match(secret, code, now, skew)
			if !ok {
				continue
			}
			if step > c.LastStep {
				// The conditional update decides even so: not every change
				// to a credential locks its account.
				won, err := t.s.store.AdvanceStep(ctx, c.ID, step, m.Session, m.IP)
				if err != nil {
					return wrong, internal("check code", err)
				}
				if won {
					return accepted, nil
				}
			}
			// Used before. From another session or address, somebody else
			// may have seen the code (OWASP ASVS 2.8.5) and the customer is
			// told; a double click is not.
			t.warnReplay = !bytes.Equal(c.LastSession, m.Session) || c.LastIP != m.IP
			return replayed, nil
		}
		return wrong, nil
	})
}

// checkRecovery spends one recovery code under the same guessing limits
// as TOTP codes.
func (t *factorTx) checkRecovery(ctx context.Context, a Account, code string, m Meta) error {
	return t.guess(ctx, a, m, func() (outcome, error) {
		codes, err := t.s.store.RecoveryCodes(ctx, a.ID)
		if err != nil {
			return wrong, internal("recovery codes", err)
		}
		if len(codes) == 0 {
			return wrong, nil
		}
		// One batch of codes shares one salt, so one hash of the input is
		// compared with every stored hash.
		stored := make([][]byte, len(codes))
		for i, c := range codes {
			stored[i] = c.Hash
		}
		i := recoverycode.Match(stored, recoverycode.Hash(code, codes[0].Salt))
		if i < 0 {
			return wrong, nil
		}
		won, err := t.s.store.UseRecoveryCode(ctx, codes[i].ID, t.s.now())
		if err != nil {
			return wrong, internal("use recovery code", err)
		}
		if !won {
			return replayed, nil
		}
		t.codesLeft = len(codes) - 1
		return accepted, nil
	})
}

// settle does, once the attempt's transaction has committed, what must
// not happen before: logs, metrics and e-mail. It returns the error the
// customer sees for a code that was not accepted.
func (s *Service) settle(ctx context.Context, a Account, t *factorTx, m Meta) error {
	// What the attempt committed is told, whether or not its sender is
	// still there: a replay notice above all.
	ctx = context.WithoutCancel(ctx)
	for _, e := range t.events {
		s.logEvent(ctx, e)
	}
	switch {
	case t.recovery && t.outcome == accepted:
		s.metrics.SecondFactor("recovery_accepted")
		s.notify(ctx, a, mail.RecoveryCodeUsed, m, mail.NoticeData{CodesLeft: t.codesLeft})
		return nil
	case t.recovery:
		s.metrics.SecondFactor("recovery_wrong")
		return errWrongRecovery
	case t.outcome == accepted:
		s.metrics.SecondFactor("accepted")
		return nil
	case t.outcome == replayed:
		s.metrics.SecondFactor("replayed")
		// One warning an hour is enough; more would let whoever replays
		// codes flood the customer's mailbox.
		key := "replay-notice:" + strconv.FormatInt(a.ID, 10)
		if t.warnReplay {
			hourly := limit{1, time.Hour, time.Hour, time.Hour}
			if _, _, err := s.take(ctx, key, hourly, false); err == nil {
				s.notify(ctx, a, mail.CodeReplayed, m, mail.NoticeData{})
			}
		}
		return errWrongCode
	}
	s.metrics.SecondFactor("wrong")
	return errWrongCode
}

// checkTOTP accepts a TOTP code for an operation of a signed-in customer,
// such as turning 2FA off.
func (s *Service) checkTOTP(ctx context.Context, a Account, raw string, m Meta) error {
	code, err := totp.NormalizeCode(raw)
	if err != nil {
		return errCodeFormat
	}
	t, err := s.attempt(ctx, false, func(ctx context.Context, t *factorTx) error {
		if err := t.checkTOTP(ctx, a, code, m); err != nil || t.outcome != accepted {
			return err
		}
		return t.record(ctx, a.ID, EventCodeAccepted, m, "")
	})
	if err != nil {
		return err
	}
	return s.settle(ctx, a, t, m)
}

// checkRecovery is checkTOTP for a recovery code.
func (s *Service) checkRecovery(ctx context.Context, a Account, raw string, m Meta) error {
	code, err := recoverycode.Normalize(raw)
	if err != nil {
		return errRecoveryFormat
	}
	t, err := s.attempt(ctx, true, func(ctx context.Context, t *factorTx) error {
		if err := t.checkRecovery(ctx, a, code, m); err != nil || t.outcome != accepted {
			return err
		}
		return t.record(ctx, a.ID, EventRecoveryCodeUsed, m, "")
	})
	if err != nil {
		return err
	}
	return s.settle(ctx, a, t, m)
}

// halfSession returns the half-signed-in session behind token.
func (s *Service) halfSession(ctx context.Context, token string) (Session, Account, error) {
	sess, a, err := s.Authenticate(ctx, token)
	if err != nil {
		return sess, a, err
	}
	if sess.Stage != StagePassword {
		return sess, a, errSignedIn
	}
	return sess, a, nil
}

// SecondFactor completes a sign-in with a TOTP code and returns the id of
// the new, fully signed-in session.
func (s *Service) SecondFactor(ctx context.Context, token, raw string, m Meta) (string, error) {
	next, _, err := s.completeSignIn(ctx, token, false, m,
		func(ctx context.Context, t *factorTx, a Account, m Meta) error {
			code, err := totp.NormalizeCode(raw)
			if err != nil {
				return errCodeFormat
			}
			return t.checkTOTP(ctx, a, code, m)
		})
	return next, err
}

// RecoverySignIn completes a sign-in with a recovery code. It returns the
// new session id and how many codes are left.
func (s *Service) RecoverySignIn(ctx context.Context, token, raw string, m Meta) (string, int, error) {
	next, t, err := s.completeSignIn(ctx, token, true, m,
		func(ctx context.Context, t *factorTx, a Account, m Meta) error {
			code, err := recoverycode.Normalize(raw)
			if err != nil {
				return errRecoveryFormat
			}
			return t.checkRecovery(ctx, a, code, m)
		})
	if err != nil {
		return "", 0, err
	}
	return next, t.codesLeft, nil
}

// completeSignIn checks a code for the half-signed-in session behind token
// and, if it is accepted, replaces the session with a full one. The check
// and the step-up are one transaction: a code is spent only by a sign-in
// that happens. A sign-in records one signin event, which names the factor,
// and, for a recovery code, that one was used.
func (s *Service) completeSignIn(ctx context.Context, token string, recovery bool, m Meta,
	check func(context.Context, *factorTx, Account, Meta) error) (string, *factorTx, error) {
	// The session is looked up in the attempt's transaction, which on
	// SQLite runs on the one writer: its page cache is warm, while a
	// reader's is dropped whenever anything commits, so there the lookup
	// read each of its pages again, a system call each. A session found
	// ended is deleted only after the transaction, so that the deletion is
	// not rolled back with the refused attempt. A request without a
	// plausible session id is refused before it takes a turn on the writer.
	if !plausibleToken(token) {
		return "", nil, errUnauthenticated
	}
	var (
		sess Session
		a    Account
		next string
	)
	t, err := s.attempt(ctx, recovery, func(ctx context.Context, t *factorTx) error {
		var err error
		if sess, a, err = t.s.findSession(ctx, token); err != nil {
			return err
		}
		if sess.Stage != StagePassword {
			return errSignedIn
		}
		m.Session = sess.IDHash
		if err := check(ctx, t, a, m); err != nil {
			return err
		}
		if t.outcome != accepted {
			// Only now, after check has locked the account: a write to
			// the session before that lock would take its row lock ahead
			// of the account's, the reverse of a 2FA reset, which ends the
			// account's sessions last, and the two could deadlock on
			// PostgreSQL. An accepted code rewrites the session anyway.
			return t.s.keepAlive(ctx, sess)
		}
		factor := "totp"
		if recovery {
			factor = "recovery code"
			if err := t.record(ctx, a.ID, EventRecoveryCodeUsed, m, ""); err != nil {
				return err
			}
		}
		if next, err = t.s.stepUp(ctx, sess, recovery, m); err != nil {
			return err
		}
		return t.record(ctx, a.ID, EventSignIn, m, factor)
	})
	if errors.Is(err, errSessionEnded) {
		return "", nil, s.endSession(context.WithoutCancel(ctx), sess)
	}
	if err != nil {
		return "", nil, err
	}
	if err := s.settle(ctx, a, t, m); err != nil {
		return "", nil, err
	}
	s.metrics.SignIn("signed_in")
	return next, t, nil
}

// TwoFactorStatus is what the settings page and the API show of 2FA. It
// never holds an active secret.
type TwoFactorStatus struct {
	Enabled           bool
	Pending           bool
	RecoveryCodesLeft int
	Devices           []Device
}

// Device describes one active second factor without its secret.
type Device struct {
	ID          int64
	Kind        CredentialKind
	Name        string
	ActivatedAt time.Time
}

// TwoFactor reports the account's second factors.
func (s *Service) TwoFactor(ctx context.Context, a Account) (TwoFactorStatus, error) {
	creds, err := s.store.Credentials(ctx, a.ID)
	if err != nil {
		return TwoFactorStatus{}, internal("two-factor status", err)
	}
	var st TwoFactorStatus
	for _, c := range creds {
		switch c.Status {
		case StatusActive:
			st.Enabled = true
			st.Devices = append(st.Devices, Device{ID: c.ID, Kind: c.Kind, Name: c.Name,
				ActivatedAt: c.ActivatedAt})
		case StatusPending:
			st.Pending = true
		}
	}
	if st.Enabled {
		codes, err := s.store.RecoveryCodes(ctx, a.ID)
		if err != nil {
			return TwoFactorStatus{}, internal("two-factor status", err)
		}
		st.RecoveryCodesLeft = len(codes)
	}
	return st, nil
}
