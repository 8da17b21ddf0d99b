package auth

import (
	"context"
	"errors"
	"time"
)

// touchEvery limits writes for the idle timeout: last_seen moves only when
// it is this stale, not on every request.
const touchEvery = time.Minute

var errUnauthenticated = Errorf(CodeUnauthenticated, "sign in first")

// startSession opens a session after a correct password: a full one, or a
// half one when the account has a second factor.
func (s *Service) startSession(ctx context.Context, a Account, m Meta) (LoginResult, error) {
	creds, err := s.store.Credentials(ctx, a.ID)
	if err != nil {
		return LoginResult{}, internal("login", err)
	}
	stage, lifetime := StageFull, s.policy.SessionLifetime
	if hasActive(creds) {
		stage, lifetime = StagePassword, s.policy.HalfSignInWindow
	}
	token, err := s.createSession(ctx, a.ID, stage, lifetime, false, m)
	if err != nil {
		return LoginResult{}, err
	}
	if stage == StageFull {
		s.metrics.SignIn("signed_in")
		s.record(ctx, a.ID, EventSignIn, m, "password")
	} else {
		s.metrics.SignIn("second_factor_required")
	}
	return LoginResult{Token: token, Account: a, SecondFactor: stage == StagePassword}, nil
}

func (s *Service) createSession(ctx context.Context, accountID int64, stage Stage,
	lifetime time.Duration, viaRecovery bool, m Meta) (string, error) {
	token, hash, err := s.newToken()
	if err != nil {
		return "", internal("session", err)
	}
	now := s.now()
	sess := Session{IDHash: hash, AccountID: accountID, Stage: stage, CreatedAt: now,
		LastSeen: now, ExpiresAt: now.Add(lifetime), IP: m.IP,
		UserAgent: truncate(m.UserAgent, 256), ViaRecovery: viaRecovery}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return "", internal("session", err)
	}
	return token, nil
}

// stepUp replaces a half session with a full one under a new id, so that
// an id seen before the second factor is worthless after it.
func (s *Service) stepUp(ctx context.Context, half Session, viaRecovery bool, m Meta) (string, error) {
	token, hash, err := s.newToken()
	if err != nil {
		return "", internal("session", err)
	}
	now := s.now()
	full := Session{IDHash: hash, AccountID: half.AccountID, Stage: StageFull, CreatedAt: now,
		LastSeen: now, ExpiresAt: now.Add(s.policy.SessionLifetime), IP: m.IP,
		UserAgent: truncate(m.UserAgent, 256), ViaRecovery: viaRecovery}
	if err := s.store.ReplaceSession(ctx, half.IDHash, full); err != nil {
		if errors.Is(err, ErrNotFound) {
			return "", errUnauthenticated
		}
		return "", internal("session", err)
	}
	return token, nil
}

// Authenticate resolves a session id to its session and account. Expired
// and idle sessions are ended. It does not check the stage: callers that
// need a full sign-in use RequireFull.
func (s *Service) Authenticate(ctx context.Context, token string) (Session, Account, error) {
	sess, a, err := s.findSession(ctx, token)
	if errors.Is(err, errSessionEnded) {
		return Session{}, Account{}, s.endSession(ctx, sess)
	}
	if err != nil {
		return Session{}, Account{}, err
	}
	if err := s.keepAlive(ctx, sess); err != nil {
		return Session{}, Account{}, err
	}
	return sess, a, nil
}

// errSessionEnded is findSession's answer for a session past its lifetime
// or idle too long. The caller deletes it, and tells the customer
// errUnauthenticated.
var errSessionEnded = Errorf(CodeUnauthenticated, "sign in again")

// findSession resolves a session id to its live session and account. It
// only reads, so that it can run first in a transaction that may be rolled
// back and that locks rows in a set order: a session past its lifetime or
// idle too long is returned with errSessionEnded, for the caller to delete
// once the transaction is over, and the caller keeps the session alive
// (keepAlive) when its own locks allow.
func (s *Service) findSession(ctx context.Context, token string) (Session, Account, error) {
	if !plausibleToken(token) {
		return Session{}, Account{}, errUnauthenticated
	}
	sess, a, err := s.store.Session(ctx, HashToken(token))
	if errors.Is(err, ErrNotFound) {
		return Session{}, Account{}, errUnauthenticated
	}
	if err != nil {
		return Session{}, Account{}, internal("session", err)
	}
	now := s.now()
	if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeen) >= s.policy.IdleTimeout {
		return sess, Account{}, errSessionEnded
	}
	return sess, a, nil
}

// keepAlive records that sess is in use, for the idle timeout; at most
// once every touchEvery, to spare the writes.
func (s *Service) keepAlive(ctx context.Context, sess Session) error {
	now := s.now()
	if now.Sub(sess.LastSeen) < touchEvery {
		return nil
	}
	if err := s.store.TouchSession(ctx, sess.IDHash, now); err != nil {
		return internal("session", err)
	}
	return nil
}

// plausibleToken rejects, before any database work, a session id that no
// session can have: none, or one longer than any this service makes.
func plausibleToken(token string) bool { return token != "" && len(token) <= 128 }

// endSession deletes a session that findSession found ended.
func (s *Service) endSession(ctx context.Context, sess Session) error {
	if err := s.store.DeleteSession(ctx, sess.IDHash); err != nil {
		return internal("session", err)
	}
	return errUnauthenticated
}

// RequireFull is Authenticate for everything past sign-in: a half-signed-in
// session is refused like no session at all.
func (s *Service) RequireFull(ctx context.Context, token string) (Session, Account, error) {
	sess, a, err := s.Authenticate(ctx, token)
	if err == nil && sess.Stage != StageFull {
		return Session{}, Account{}, errUnauthenticated
	}
	return sess, a, err
}

// Logout ends one session.
func (s *Service) Logout(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	if err := s.store.DeleteSession(ctx, HashToken(token)); err != nil {
		return internal("logout", err)
	}
	return nil
}

// LogoutEverywhere ends every session of the account, this one included.
func (s *Service) LogoutEverywhere(ctx context.Context, a Account, m Meta) error {
	if err := s.store.DeleteSessions(ctx, a.ID, nil); err != nil {
		return internal("logout everywhere", err)
	}
	s.record(ctx, a.ID, EventSignedOutEverywhere, m, "")
	return nil
}

// ExpireSessions deletes sessions past their lifetime; the server calls it
// now and then so the table does not grow without end.
func (s *Service) ExpireSessions(ctx context.Context) (int64, error) {
	return s.store.DeleteExpiredSessions(ctx, s.now())
}

func hasActive(creds []Credential) bool {
	for _, c := range creds {
		if c.Status == StatusActive {
			return true
		}
	}
	return false
}
