package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/clientarea/clientarea/internal/auth"
)

const sessionColumns = "id_hash, account_id, stage, created_at, last_seen, expires_at, " +
	"ip, user_agent, via_recovery"

func scanSession(row interface{ Scan(...any) error }) (auth.Session, error) {
	var s auth.Session
	var created, seen, expires int64
	var viaRecovery int
	err := row.Scan(&s.IDHash, &s.AccountID, &s.Stage, &created, &seen, &expires,
		&s.IP, &s.UserAgent, &viaRecovery)
	s.CreatedAt, s.LastSeen, s.ExpiresAt = fromUnix(created), fromUnix(seen), fromUnix(expires)
	s.ViaRecovery = viaRecovery != 0
	return s, notFound(err)
}

func (s *Store) insertSession(ctx context.Context, ex interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, ss auth.Session) error {
	via := 0
	if ss.ViaRecovery {
		via = 1
	}
	_, err := ex.ExecContext(ctx, s.q("INSERT INTO sessions ("+sessionColumns+
		") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"), ss.IDHash, ss.AccountID, ss.Stage,
		unix(ss.CreatedAt), unix(ss.LastSeen), unix(ss.ExpiresAt), ss.IP, ss.UserAgent, via)
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// CreateSession stores a new session.
func (s *Store) CreateSession(ctx context.Context, ss auth.Session) error {
	return s.insertSession(ctx, s.write, ss)
}

// Session finds a session by the hash of its id.
func (s *Store) Session(ctx context.Context, idHash []byte) (auth.Session, error) {
	row := s.read.QueryRowContext(ctx,
		s.q("SELECT "+sessionColumns+" FROM sessions WHERE id_hash = ?"), idHash)
	return scanSession(row)
}

// ReplaceSession swaps old for ss. It rewrites the row in place, one
// statement whatever the transaction around it, and fails when old is gone,
// so only one of two racing step-ups gets the new session.
func (s *Store) ReplaceSession(ctx context.Context, old []byte, ss auth.Session) error {
	via := 0
	if ss.ViaRecovery {
		via = 1
	}
	n, err := s.exec(ctx, "UPDATE sessions SET id_hash = ?, stage = ?, created_at = ?, "+
		"last_seen = ?, expires_at = ?, ip = ?, user_agent = ?, via_recovery = ? "+
		"WHERE id_hash = ? AND account_id = ?", ss.IDHash, ss.Stage, unix(ss.CreatedAt),
		unix(ss.LastSeen), unix(ss.ExpiresAt), ss.IP, ss.UserAgent, via, old, ss.AccountID)
	if err != nil {
		return fmt.Errorf("store: replace session: %w", err)
	}
	if n == 0 {
		return auth.ErrNotFound
	}
	return nil
}

// TouchSession records activity for the idle timeout.
func (s *Store) TouchSession(ctx context.Context, idHash []byte, lastSeen time.Time) error {
	_, err := s.exec(ctx, "UPDATE sessions SET last_seen = ? WHERE id_hash = ?",
		unix(lastSeen), idHash)
	if err != nil {
		return fmt.Errorf("store: touch session: %w", err)
	}
	return nil
}

// DeleteSession ends one session.
func (s *Store) DeleteSession(ctx context.Context, idHash []byte) error {
	if _, err := s.exec(ctx, "DELETE FROM sessions WHERE id_hash = ?", idHash); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// DeleteSessions ends every session of an account but keep.
func (s *Store) DeleteSessions(ctx context.Context, accountID int64, keep []byte) error {
	if keep == nil {
		keep = []byte{}
	}
	_, err := s.exec(ctx, "DELETE FROM sessions WHERE account_id = ? AND id_hash <> ?",
		accountID, keep)
	if err != nil {
		return fmt.Errorf("store: delete sessions: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions past their absolute lifetime.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	n, err := s.exec(ctx, "DELETE FROM sessions WHERE expires_at <= ?", unix(now))
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	return n, nil
}

// CountSessions counts unexpired sessions, for metrics.
func (s *Store) CountSessions(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.read.QueryRowContext(ctx,
		s.q("SELECT COUNT(*) FROM sessions WHERE expires_at > ?"), unix(now)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count sessions: %w", err)
	}
	return n, nil
}
