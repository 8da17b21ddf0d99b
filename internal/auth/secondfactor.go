package auth

import (
	"bytes"
	"context"
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
	errLocked        = Errorf(CodeLocked, "sign-in with codes is locked after too many wrong "+
		"codes; use a recovery code or ask support for help")
)

// outcome settles a reserved second-factor attempt.
type outcome int

const (
	wrong    outcome = iota // the attempt stays counted
	accepted                // every counter is cleared
	replayed                // the attempt is refunded: a replay is not a guess
)

// reserve counts an attempt before the code is checked. Counting first is
// what makes the limit hold against parallel guesses: of many requests
// sent at once, only the first few get a reservation, the rest a wait.
// With totpOnly, the hard limit of NIST SP 800-63B applies as well.
func (s *Service) reserve(ctx context.Context, accountID int64, totpOnly bool) (FactorGuard, error) {
	g, err := s.updateGuard(ctx, accountID, func(g *FactorGuard) error {
		now := s.now()
		if wait := g.WaitUntil.Sub(now); wait > 0 {
			return throttled(wait)
		}
		if totpOnly && g.Total >= s.policy.FactorHardLimit {
			return errLocked
		}
		g.Consecutive++
		g.Total++
		if g.Consecutive >= s.policy.FreeFailures {
			n := g.Consecutive - s.policy.FreeFailures
			g.WaitUntil = now.Add(backoff(s.policy.FactorWait, s.policy.FactorMaxWait, n))
		}
		return nil
	})
	if err != nil {
		switch ErrorCode(err) {
		case CodeThrottled:
			s.metrics.Throttled("second_factor")
		case CodeLocked:
			s.metrics.SecondFactor("locked")
		}
	}
	return g, err
}

// waitStarted records, once per wait, that wrong codes made the account
// wait: the attempt that was counted as the last free one, or beyond.
// Refused attempts are not recorded one by one, or they would flood the
// customer's security log.
func (s *Service) waitStarted(ctx context.Context, a Account, g FactorGuard, m Meta) {
	if g.Consecutive >= s.policy.FreeFailures {
		s.record(ctx, a.ID, EventThrottled, m, "second factor")
	}
}

// settle ends a reserved attempt. By now the code has been spent (its
// step recorded, or the recovery code marked used), so a failure here must
// not fail the sign-in: it only leaves the counters higher than they should
// be, which the next success or wait clears.
func (s *Service) settle(ctx context.Context, accountID int64, o outcome) {
	if o == wrong {
		return
	}
	_, err := s.updateGuard(ctx, accountID, func(g *FactorGuard) error {
		if o == accepted {
			g.Consecutive, g.Total, g.WaitUntil = 0, 0, time.Time{}
			return nil
		}
		g.Consecutive = max(g.Consecutive-1, 0)
		g.Total = max(g.Total-1, 0)
		if g.Consecutive < s.policy.FreeFailures {
			g.WaitUntil = time.Time{}
		}
		return nil
	})
	if err != nil {
		s.log.WarnContext(ctx, "settle second-factor guard", "account_id", accountID, "err", err)
	}
}

// updateGuard applies change to the account's guard with compare-and-swap,
// retrying when another request changed it first.
func (s *Service) updateGuard(ctx context.Context, accountID int64,
	change func(*FactorGuard) error) (FactorGuard, error) {
	for range casAttempts {
		g, err := s.store.FactorGuard(ctx, accountID)
		if err != nil {
			return g, internal("factor guard", err)
		}
		if err := change(&g); err != nil {
			return g, err
		}
		g.Version++
		ok, err := s.store.SwapFactorGuard(ctx, g)
		if err != nil {
			return g, internal("factor guard", err)
		}
		if ok {
			return g, nil
		}
	}
	return FactorGuard{}, errContended
}

// checkTOTP accepts a code of one of the account's active authenticator
// apps at most once, under the guessing limits.
func (s *Service) checkTOTP(ctx context.Context, a Account, raw string, m Meta) error {
	code, err := totp.NormalizeCode(raw)
	if err != nil {
		return errCodeFormat
	}
	g, err := s.reserve(ctx, a.ID, true)
	if err != nil {
		return err
	}
	o, err := s.matchTOTP(ctx, a, code, m)
	if err != nil {
		return err
	}
	s.settle(ctx, a.ID, o)
	switch o {
	case accepted:
		s.metrics.SecondFactor("accepted")
		s.record(ctx, a.ID, EventCodeAccepted, m, "")
		return nil
	case replayed:
		s.metrics.SecondFactor("replayed")
		return errWrongCode
	}
	s.metrics.SecondFactor("wrong")
	s.record(ctx, a.ID, EventCodeFailed, m, "")
	s.waitStarted(ctx, a, g, m)
	return errWrongCode
}

func (s *Service) matchTOTP(ctx context.Context, a Account, code string, m Meta) (outcome, error) {
	creds, err := s.store.Credentials(ctx, a.ID)
	if err != nil {
		return wrong, internal("check code", err)
	}
	now := s.now()
	for _, c := range creds {
		if c.Status != StatusActive || c.Kind != KindTOTP {
			continue
		}
		secret, err := s.keys.Open(c.Secret, SecretAD(a.ID))
		if err != nil {
			return wrong, internal("open secret", err)
		}
		step, ok := totp.Match(secret, code, now, skew)
		if !ok {
			continue
		}
		// The conditional update, not the comparison with c.LastStep read
		// above, decides: of two requests with one code only one wins.
		won, err := s.store.AdvanceStep(ctx, c.ID, step, m.Session, m.IP)
		if err != nil {
			return wrong, internal("check code", err)
		}
		if won {
			return accepted, nil
		}
		s.replay(ctx, a, c.ID, m)
		return replayed, nil
	}
	return wrong, nil
}

// replay records a code used twice. When the second use comes from another
// session or address than the first, somebody else may have seen the code
// (OWASP ASVS 2.8.5), and the customer is told. A double click is not.
func (s *Service) replay(ctx context.Context, a Account, credID int64, m Meta) {
	s.record(ctx, a.ID, EventCodeReplayed, m, "")
	creds, err := s.store.Credentials(ctx, a.ID)
	if err != nil {
		s.log.ErrorContext(ctx, "read credential after replay", "err", err)
		return
	}
	for _, c := range creds {
		if c.ID != credID || bytes.Equal(c.LastSession, m.Session) && c.LastIP == m.IP {
			continue
		}
		// One warning an hour is enough; more would let whoever replays
		// codes flood the customer's mailbox.
		key := "replay-notice:" + strconv.FormatInt(a.ID, 10)
		if _, err := s.take(ctx, key, limit{1, time.Hour, time.Hour, time.Hour}); err == nil {
			s.notify(ctx, a, mail.CodeReplayed, m, mail.NoticeData{})
		}
	}
}

// checkRecovery spends one recovery code under the same guessing limits
// as TOTP codes. It returns how many codes are left.
func (s *Service) checkRecovery(ctx context.Context, a Account, raw string, m Meta) (int, error) {
	code, err := recoverycode.Normalize(raw)
	if err != nil {
		return 0, errRecoveryFormat
	}
	g, err := s.reserve(ctx, a.ID, false)
	if err != nil {
		return 0, err
	}
	left, o, err := s.spendRecovery(ctx, a, code)
	if err != nil {
		return 0, err
	}
	s.settle(ctx, a.ID, o)
	if o != accepted {
		s.metrics.SecondFactor("recovery_wrong")
		s.record(ctx, a.ID, EventCodeFailed, m, "recovery code")
		s.waitStarted(ctx, a, g, m)
		return 0, errWrongRecovery
	}
	s.metrics.SecondFactor("recovery_accepted")
	s.record(ctx, a.ID, EventRecoveryCodeUsed, m, "")
	s.notify(ctx, a, mail.RecoveryCodeUsed, m, mail.NoticeData{CodesLeft: left})
	return left, nil
}

func (s *Service) spendRecovery(ctx context.Context, a Account, code string) (int, outcome, error) {
	codes, err := s.store.RecoveryCodes(ctx, a.ID)
	if err != nil || len(codes) == 0 {
		return 0, wrong, err
	}
	// One batch of codes shares one salt, so one hash of the input is
	// compared with every stored hash.
	stored := make([][]byte, len(codes))
	for i, c := range codes {
		stored[i] = c.Hash
	}
	i := recoverycode.Match(stored, recoverycode.Hash(code, codes[0].Salt))
	if i < 0 {
		return 0, wrong, nil
	}
	won, err := s.store.UseRecoveryCode(ctx, codes[i].ID, s.now())
	if err != nil {
		return 0, wrong, internal("use recovery code", err)
	}
	if !won {
		return 0, replayed, nil
	}
	return len(codes) - 1, accepted, nil
}

// halfSession returns the half-signed-in session behind token.
func (s *Service) halfSession(ctx context.Context, token string) (Session, Account, error) {
	sess, a, err := s.Authenticate(ctx, token)
	if err != nil {
		return sess, a, err
	}
	if sess.Stage != StagePassword {
		return sess, a, Errorf(CodeConflict, "already signed in")
	}
	return sess, a, nil
}

// SecondFactor completes a sign-in with a TOTP code and returns the id of
// the new, fully signed-in session.
func (s *Service) SecondFactor(ctx context.Context, token, code string, m Meta) (string, error) {
	sess, a, err := s.halfSession(ctx, token)
	if err != nil {
		return "", err
	}
	m.Session = sess.IDHash
	if err := s.checkTOTP(ctx, a, code, m); err != nil {
		return "", err
	}
	next, err := s.stepUp(ctx, sess, false, m)
	if err != nil {
		return "", err
	}
	s.metrics.SignIn("signed_in")
	s.record(ctx, a.ID, EventSignIn, m, "totp")
	return next, nil
}

// RecoverySignIn completes a sign-in with a recovery code. It returns the
// new session id and how many codes are left.
func (s *Service) RecoverySignIn(ctx context.Context, token, code string, m Meta) (string, int, error) {
	sess, a, err := s.halfSession(ctx, token)
	if err != nil {
		return "", 0, err
	}
	m.Session = sess.IDHash
	left, err := s.checkRecovery(ctx, a, code, m)
	if err != nil {
		return "", 0, err
	}
	next, err := s.stepUp(ctx, sess, true, m)
	if err != nil {
		return "", 0, err
	}
	s.metrics.SignIn("signed_in")
	s.record(ctx, a.ID, EventSignIn, m, "recovery code")
	return next, left, nil
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
