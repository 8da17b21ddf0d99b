package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/clientarea/clientarea/internal/auth"
)

const credentialColumns = "id, account_id, kind, name, status, secret, pending_codes, " +
	"last_step, last_session, last_ip, created_at, activated_at"

func scanCredential(row interface{ Scan(...any) error }) (auth.Credential, error) {
	var c auth.Credential
	var created int64
	var activated sql.NullInt64
	err := row.Scan(&c.ID, &c.AccountID, &c.Kind, &c.Name, &c.Status, &c.Secret,
		&c.PendingCodes, &c.LastStep, &c.LastSession, &c.LastIP, &created, &activated)
	c.CreatedAt = fromUnix(created)
	c.ActivatedAt = nullUnix(activated)
	return c, notFound(err)
}

// Credentials lists an account's second factors, oldest first.
func (s *Store) Credentials(ctx context.Context, accountID int64) ([]auth.Credential, error) {
	rows, err := s.read.QueryContext(ctx, s.q("SELECT "+credentialColumns+
		" FROM credentials WHERE account_id = ? ORDER BY id"), accountID)
	if err != nil {
		return nil, fmt.Errorf("store: credentials: %w", err)
	}
	return collect(rows, scanCredential)
}

// AddPendingCredential inserts c as the account's pending credential, or
// returns the pending one that exists. The partial unique index
// credentials_one_pending makes the choice when two requests race.
func (s *Store) AddPendingCredential(ctx context.Context, c auth.Credential) (auth.Credential, error) {
	var out auth.Credential
	err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.q("INSERT INTO credentials "+
			"(account_id, kind, name, status, secret, pending_codes, created_at) "+
			"VALUES (?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT DO NOTHING"),
			c.AccountID, c.Kind, c.Name, c.Secret, c.PendingCodes, unix(c.CreatedAt))
		if err != nil {
			return err
		}
		row := tx.QueryRowContext(ctx, s.q("SELECT "+credentialColumns+
			" FROM credentials WHERE account_id = ? AND status = 'pending'"), c.AccountID)
		out, err = scanCredential(row)
		return err
	})
	if err != nil {
		return auth.Credential{}, fmt.Errorf("store: add pending credential: %w", err)
	}
	return out, nil
}

// DeletePendingCredentials cancels an enrolment.
func (s *Store) DeletePendingCredentials(ctx context.Context, accountID int64) error {
	_, err := s.exec(ctx,
		"DELETE FROM credentials WHERE account_id = ? AND status = 'pending'", accountID)
	if err != nil {
		return fmt.Errorf("store: delete pending credentials: %w", err)
	}
	return nil
}

// ActivateCredential turns the pending credential on; see auth.Store.
func (s *Store) ActivateCredential(ctx context.Context, credID, lastStep int64,
	codes []auth.RecoveryCode, now time.Time) error {
	return s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var accountID int64
		var kind string
		err := tx.QueryRowContext(ctx, s.q("UPDATE credentials SET status = 'active', "+
			"pending_codes = NULL, last_step = ?, activated_at = ? "+
			"WHERE id = ? AND status = 'pending' RETURNING account_id, kind"),
			lastStep, unix(now), credID).Scan(&accountID, &kind)
		if errors.Is(err, sql.ErrNoRows) {
			return auth.ErrConflict
		}
		if err != nil {
			return fmt.Errorf("store: activate credential: %w", err)
		}
		_, err = tx.ExecContext(ctx, s.q("DELETE FROM credentials WHERE account_id = ? "+
			"AND kind = ? AND status = 'active' AND id <> ?"), accountID, kind, credID)
		if err != nil {
			return fmt.Errorf("store: retire old credentials: %w", err)
		}
		if _, err := tx.ExecContext(ctx,
			s.q("DELETE FROM factor_guards WHERE account_id = ?"), accountID); err != nil {
			return fmt.Errorf("store: clear guard: %w", err)
		}
		if codes == nil {
			return nil
		}
		return s.replaceCodes(ctx, tx, accountID, codes)
	})
}

// AdvanceStep is the replay guard: one conditional UPDATE, so of any number
// of requests carrying codes of one step exactly one changes the row.
func (s *Store) AdvanceStep(ctx context.Context, credID, step int64, session []byte,
	ip string) (bool, error) {
	n, err := s.exec(ctx, "UPDATE credentials SET last_step = ?, last_session = ?, last_ip = ? "+
		"WHERE id = ? AND status = 'active' AND last_step < ?", step, session, ip, credID, step)
	if err != nil {
		return false, fmt.Errorf("store: advance step: %w", err)
	}
	return n == 1, nil
}

// RemoveSecondFactors deletes every second factor and recovery code.
func (s *Store) RemoveSecondFactors(ctx context.Context, accountID int64, endSessions bool) error {
	return s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		stmts := []string{
			"DELETE FROM credentials WHERE account_id = ?",
			"DELETE FROM recovery_codes WHERE account_id = ?",
			"DELETE FROM factor_guards WHERE account_id = ?",
		}
		if endSessions {
			stmts = append(stmts, "DELETE FROM sessions WHERE account_id = ?")
		}
		for _, stmt := range stmts {
			if _, err := tx.ExecContext(ctx, s.q(stmt), accountID); err != nil {
				return fmt.Errorf("store: remove second factors: %w", err)
			}
		}
		return nil
	})
}

// RecoveryCodes lists the account's unused recovery codes.
func (s *Store) RecoveryCodes(ctx context.Context, accountID int64) ([]auth.RecoveryCode, error) {
	rows, err := s.read.QueryContext(ctx, s.q("SELECT id, salt, hash FROM recovery_codes "+
		"WHERE account_id = ? AND used_at IS NULL ORDER BY id"), accountID)
	if err != nil {
		return nil, fmt.Errorf("store: recovery codes: %w", err)
	}
	return collect(rows, func(r interface{ Scan(...any) error }) (auth.RecoveryCode, error) {
		var c auth.RecoveryCode
		return c, r.Scan(&c.ID, &c.Salt, &c.Hash)
	})
}

// ReplaceRecoveryCodes swaps all of an account's codes for new ones.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, accountID int64,
	codes []auth.RecoveryCode) error {
	return s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error { return s.replaceCodes(ctx, tx, accountID, codes) })
}

func (s *Store) replaceCodes(ctx context.Context, tx *sql.Tx, accountID int64,
	codes []auth.RecoveryCode) error {
	_, err := tx.ExecContext(ctx, s.q("DELETE FROM recovery_codes WHERE account_id = ?"), accountID)
	if err != nil {
		return fmt.Errorf("store: replace recovery codes: %w", err)
	}
	for _, c := range codes {
		_, err := tx.ExecContext(ctx, s.q("INSERT INTO recovery_codes "+
			"(account_id, salt, hash) VALUES (?, ?, ?)"), accountID, c.Salt, c.Hash)
		if err != nil {
			return fmt.Errorf("store: replace recovery codes: %w", err)
		}
	}
	return nil
}

// UseRecoveryCode spends a code with a conditional update: one use only,
// however many requests carry it at once.
func (s *Store) UseRecoveryCode(ctx context.Context, codeID int64, now time.Time) (bool, error) {
	n, err := s.exec(ctx, "UPDATE recovery_codes SET used_at = ? WHERE id = ? AND used_at IS NULL",
		unix(now), codeID)
	if err != nil {
		return false, fmt.Errorf("store: use recovery code: %w", err)
	}
	return n == 1, nil
}

// SealedSecrets pages through every credential, for key rotation.
func (s *Store) SealedSecrets(ctx context.Context, afterID int64, limit int) ([]auth.Credential, error) {
	rows, err := s.read.QueryContext(ctx, s.q("SELECT "+credentialColumns+
		" FROM credentials WHERE id > ? ORDER BY id LIMIT ?"), afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("store: sealed secrets: %w", err)
	}
	return collect(rows, scanCredential)
}

// ResealSecret replaces a credential's sealed blobs if they are still the
// ones read (old, oldCodes), so that a concurrent change is never undone.
func (s *Store) ResealSecret(ctx context.Context, credID int64, old, secret, oldCodes,
	codes []byte) (bool, error) {
	query := "UPDATE credentials SET secret = ?, pending_codes = ? " +
		"WHERE id = ? AND secret = ? AND pending_codes = ?"
	args := []any{secret, codes, credID, old, oldCodes}
	if oldCodes == nil {
		query = "UPDATE credentials SET secret = ?, pending_codes = ? " +
			"WHERE id = ? AND secret = ? AND pending_codes IS NULL"
		args = args[:4]
	}
	n, err := s.exec(ctx, query, args...)
	if err != nil {
		return false, fmt.Errorf("store: reseal secret: %w", err)
	}
	return n == 1, nil
}
