package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/clientarea/clientarea/internal/auth"
)

const accountColumns = "id, email, password_hash, role, lang, created_at"

func scanAccount(row interface{ Scan(...any) error }) (auth.Account, error) {
	var a auth.Account
	var created int64
	err := row.Scan(&a.ID, &a.Email, &a.PasswordHash, &a.Role, &a.Lang, &created)
	a.CreatedAt = fromUnix(created)
	return a, notFound(err)
}

// CreateAccount inserts a; the e-mail's UNIQUE constraint decides races.
func (s *Store) CreateAccount(ctx context.Context, a auth.Account) (auth.Account, error) {
	row := s.write.QueryRowContext(ctx, s.q(
		"INSERT INTO accounts (email, password_hash, role, lang, created_at) "+
			"VALUES (?, ?, ?, ?, ?) RETURNING id"),
		a.Email, a.PasswordHash, a.Role, a.Lang, unix(a.CreatedAt))
	if err := row.Scan(&a.ID); err != nil {
		if isUnique(err) {
			return auth.Account{}, auth.ErrConflict
		}
		return auth.Account{}, fmt.Errorf("store: create account: %w", err)
	}
	return a, nil
}

// AccountByEmail finds an account by its normalised e-mail.
func (s *Store) AccountByEmail(ctx context.Context, email string) (auth.Account, error) {
	row := s.read.QueryRowContext(ctx,
		s.q("SELECT "+accountColumns+" FROM accounts WHERE email = ?"), email)
	return scanAccount(row)
}

// AccountByID finds an account by id.
func (s *Store) AccountByID(ctx context.Context, id int64) (auth.Account, error) {
	row := s.read.QueryRowContext(ctx,
		s.q("SELECT "+accountColumns+" FROM accounts WHERE id = ?"), id)
	return scanAccount(row)
}

// SetPasswordHash replaces an account's password hash.
func (s *Store) SetPasswordHash(ctx context.Context, accountID int64, hash string) error {
	n, err := s.exec(ctx, "UPDATE accounts SET password_hash = ? WHERE id = ?", hash, accountID)
	return rowChanged(n, err, "set password")
}

// SetLang stores the customer's chosen language.
func (s *Store) SetLang(ctx context.Context, accountID int64, lang string) error {
	n, err := s.exec(ctx, "UPDATE accounts SET lang = ? WHERE id = ?", lang, accountID)
	return rowChanged(n, err, "set language")
}

// SearchAccounts finds accounts whose e-mail contains query, for support.
func (s *Store) SearchAccounts(ctx context.Context, query string, limit int) ([]auth.Account, error) {
	pattern := "%" + likeEscaper.Replace(strings.ToLower(query)) + "%"
	rows, err := s.read.QueryContext(ctx, s.q("SELECT "+accountColumns+
		" FROM accounts WHERE email LIKE ? ESCAPE '\\' ORDER BY email LIMIT ?"), pattern, limit)
	if err != nil {
		return nil, fmt.Errorf("store: search accounts: %w", err)
	}
	return collect(rows, scanAccount)
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

func rowChanged(n int64, err error, op string) error {
	if err != nil {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	if n == 0 {
		return auth.ErrNotFound
	}
	return nil
}

// collect scans every row with scan and closes rows.
func collect[T any](rows *sql.Rows, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
