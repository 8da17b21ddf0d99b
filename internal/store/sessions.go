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

// Session finds a session by the hash of its id, with its account: every
// signed-in request needs both, and one query reads them.
func (s *Store) Session(ctx context.Context, idHash []byte) (auth.Session, auth.Account, error) {
	var ss auth.Session
	var a auth.Account
	var created, seen, expires, accountCreated int64
	var viaRecovery int
	err := s.read.QueryRowContext(ctx, s.q("SELECT s.id_hash, s.account_id, s.stage, "+
		"s.created_at, s.last_seen, s.expires_at, s.ip, s.user_agent, s.via_recovery, "+
		"a.email, a.password_hash, a.role, a.lang, a.created_at "+
		"FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.id_hash = ?"), idHash).
		Scan(&ss.IDHash, &ss.AccountID, &ss.Stage, &created, &seen, &expires, &ss.IP,
			&ss.UserAgent, &viaRecovery, &a.Email, &a.PasswordHash, &a.Role, &a.Lang,
			&accountCreated)
	if err != nil {
		return auth.Session{}, auth.Account{}, notFound(err)
	}
	ss.CreatedAt, ss.LastSeen, ss.ExpiresAt = fromUnix(created), fromUnix(seen), fromUnix(expires)
	ss.ViaRecovery = viaRecovery != 0
	a.ID, a.CreatedAt = ss.AccountID, fromUnix(accountCreated)
	return ss, a, nil
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

// expireBatch bounds the sessions read by one scan, and expireChunk those
// one write transaction removes, so that the one writer is never held long.
const (
	expireBatch = 20000
	expireChunk = 500
)

// DeleteExpiredSessions removes sessions past their absolute lifetime. It
// finds them with scans on a reader (there is no index: see migration
// 0002) and deletes them by id in small transactions.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for {
		ids, err := s.expiredSessions(ctx, now)
		if err != nil {
			return total, err
		}
		var pass int64
		for start := 0; start < len(ids); start += expireChunk {
			n, err := s.deleteExpired(ctx, ids[start:min(start+expireChunk, len(ids))], now)
			pass += n
			if err != nil {
				return total + pass, err
			}
		}
		total += pass
		// A full scan's worth means more may wait; a pass that removed
		// nothing means the rest is not this run's to remove.
		if len(ids) < expireBatch || pass == 0 {
			return total, nil
		}
	}
}

func (s *Store) expiredSessions(ctx context.Context, now time.Time) ([][]byte, error) {
	rows, err := s.read.QueryContext(ctx,
		s.q("SELECT id_hash FROM sessions WHERE expires_at <= ? LIMIT ?"), unix(now), expireBatch)
	if err != nil {
		return nil, fmt.Errorf("store: expired sessions: %w", err)
	}
	ids, err := collect(rows, func(r interface{ Scan(...any) error }) ([]byte, error) {
		var id []byte
		return id, r.Scan(&id)
	})
	if err != nil {
		return nil, fmt.Errorf("store: expired sessions: %w", err)
	}
	return ids, nil
}

func (s *Store) deleteExpired(ctx context.Context, ids [][]byte, now time.Time) (int64, error) {
	var deleted int64
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		deleted = 0
		for _, id := range ids {
			// Checked again: the session may have been replaced since.
			res, err := tx.ExecContext(ctx,
				s.q("DELETE FROM sessions WHERE id_hash = ? AND expires_at <= ?"), id, unix(now))
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			deleted += n
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	return deleted, nil
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
