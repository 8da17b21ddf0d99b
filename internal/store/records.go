package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/clientarea/clientarea/internal/auth"
)

// AddEvent appends to an account's security log.
func (s *Store) AddEvent(ctx context.Context, e auth.Event) error {
	_, err := s.exec(ctx, "INSERT INTO events (account_id, kind, at, ip, user_agent, detail) "+
		"VALUES (?, ?, ?, ?, ?, ?)", e.AccountID, e.Kind, unix(e.At), e.IP, e.UserAgent, e.Detail)
	if err != nil {
		return fmt.Errorf("store: add event: %w", err)
	}
	return nil
}

// Events pages through an account's log, newest first, by id.
func (s *Store) Events(ctx context.Context, accountID, before int64, limit int) ([]auth.Event, error) {
	query := "SELECT id, account_id, kind, at, ip, user_agent, detail FROM events " +
		"WHERE account_id = ? AND id < ? ORDER BY id DESC LIMIT ?"
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.read.QueryContext(ctx, s.q(query), accountID, before, limit)
	if err != nil {
		return nil, fmt.Errorf("store: events: %w", err)
	}
	return collect(rows, func(r interface{ Scan(...any) error }) (auth.Event, error) {
		var e auth.Event
		var at int64
		err := r.Scan(&e.ID, &e.AccountID, &e.Kind, &at, &e.IP, &e.UserAgent, &e.Detail)
		e.At = fromUnix(at)
		return e, err
	})
}

// CreateToken stores the hash of an e-mailed one-time token.
func (s *Store) CreateToken(ctx context.Context, t auth.Token) error {
	_, err := s.exec(ctx, "INSERT INTO tokens (hash, purpose, account_id, ref, expires_at) "+
		"VALUES (?, ?, ?, ?, ?)", t.Hash, t.Purpose, t.AccountID, t.Ref, unix(t.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store: create token: %w", err)
	}
	return nil
}

// DeleteTokens withdraws an account's tokens of one purpose, so that a
// reset link mailed before a password change stops working.
func (s *Store) DeleteTokens(ctx context.Context, accountID int64, purpose auth.TokenPurpose) error {
	_, err := s.exec(ctx, "DELETE FROM tokens WHERE account_id = ? AND purpose = ?", accountID,
		purpose)
	if err != nil {
		return fmt.Errorf("store: delete tokens: %w", err)
	}
	return nil
}

// UseToken spends a token with one conditional update.
func (s *Store) UseToken(ctx context.Context, hash []byte, purpose auth.TokenPurpose,
	now time.Time) (auth.Token, error) {
	t := auth.Token{Hash: hash, Purpose: purpose}
	var expires int64
	err := s.write.QueryRowContext(ctx, s.q("UPDATE tokens SET used_at = ? WHERE hash = ? "+
		"AND purpose = ? AND used_at IS NULL AND expires_at > ? "+
		"RETURNING account_id, ref, expires_at"), unix(now), hash, purpose, unix(now)).
		Scan(&t.AccountID, &t.Ref, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return t, auth.ErrNotFound
	}
	if err != nil {
		return t, fmt.Errorf("store: use token: %w", err)
	}
	t.ExpiresAt = fromUnix(expires)
	return t, nil
}

const requestColumns = "r.id, r.account_id, a.email, r.status, r.message, r.ip, r.created_at, " +
	"r.confirmed_at, r.resolved_at, r.resolved_by, r.resolution"

// CreateRecoveryRequest files a customer's request for support.
func (s *Store) CreateRecoveryRequest(ctx context.Context, r auth.RecoveryRequest) (auth.RecoveryRequest, error) {
	err := s.write.QueryRowContext(ctx, s.q("INSERT INTO recovery_requests "+
		"(account_id, status, message, ip, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id"),
		r.AccountID, r.Status, r.Message, r.IP, unix(r.CreatedAt)).Scan(&r.ID)
	if err != nil {
		return r, fmt.Errorf("store: create recovery request: %w", err)
	}
	return r, nil
}

// ConfirmRecoveryRequest moves a request from unconfirmed to the queue.
func (s *Store) ConfirmRecoveryRequest(ctx context.Context, id int64, now time.Time) error {
	n, err := s.exec(ctx, "UPDATE recovery_requests SET status = 'open', confirmed_at = ? "+
		"WHERE id = ? AND status = 'unconfirmed'", unix(now), id)
	return rowChanged(n, err, "confirm recovery request")
}

// RecoveryRequests lists requests in one state, oldest first.
func (s *Store) RecoveryRequests(ctx context.Context, status auth.RequestStatus,
	limit int) ([]auth.RecoveryRequest, error) {
	rows, err := s.read.QueryContext(ctx, s.q("SELECT "+requestColumns+
		" FROM recovery_requests r JOIN accounts a ON a.id = r.account_id "+
		"WHERE r.status = ? ORDER BY r.id LIMIT ?"), status, limit)
	if err != nil {
		return nil, fmt.Errorf("store: recovery requests: %w", err)
	}
	return collect(rows, func(row interface{ Scan(...any) error }) (auth.RecoveryRequest, error) {
		var r auth.RecoveryRequest
		var created int64
		var confirmed, resolved sql.NullInt64
		err := row.Scan(&r.ID, &r.AccountID, &r.Email, &r.Status, &r.Message, &r.IP, &created,
			&confirmed, &resolved, &r.ResolvedBy, &r.Resolution)
		r.CreatedAt, r.ConfirmedAt, r.ResolvedAt = fromUnix(created), nullUnix(confirmed),
			nullUnix(resolved)
		return r, err
	})
}

// ResolveRecoveryRequests closes an account's open requests.
func (s *Store) ResolveRecoveryRequests(ctx context.Context, accountID int64, by,
	resolution string, now time.Time) error {
	_, err := s.exec(ctx, "UPDATE recovery_requests SET status = 'resolved', resolved_at = ?, "+
		"resolved_by = ?, resolution = ? WHERE account_id = ? AND status <> 'resolved'",
		unix(now), by, resolution, accountID)
	if err != nil {
		return fmt.Errorf("store: resolve recovery requests: %w", err)
	}
	return nil
}

// Setting reads an installation-wide setting.
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := s.read.QueryRowContext(ctx, s.q("SELECT value FROM settings WHERE key = ?"), key).Scan(&v)
	return v, notFound(err)
}

// PutSetting is a compare-and-swap on one setting; old "" means absent.
func (s *Store) PutSetting(ctx context.Context, key, old, value string) (bool, error) {
	var n int64
	var err error
	if old == "" {
		n, err = s.exec(ctx, "INSERT INTO settings (key, value) VALUES (?, ?) "+
			"ON CONFLICT DO NOTHING", key, value)
	} else {
		n, err = s.exec(ctx, "UPDATE settings SET value = ? WHERE key = ? AND value = ?",
			value, key, old)
	}
	if err != nil {
		return false, fmt.Errorf("store: put setting: %w", err)
	}
	return n == 1, nil
}
