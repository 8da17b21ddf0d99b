package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/clientarea/clientarea/internal/auth"
)

// bulkBatch is how many accounts one SQLite transaction of a bulk load
// inserts: large enough that commits cost little, small enough that the
// server's other writers wait well under a second for the lock.
const bulkBatch = 5000

// BulkAccount is what a bulk load stores for one account besides the
// shared password hash: its e-mail, its sealed TOTP secret, and the
// stored form of its recovery codes.
type BulkAccount struct {
	Email  string
	Secret []byte
	Codes  []auth.RecoveryCode
}

// BulkAccounts inserts n customer accounts with 2FA on, for benchmarks
// and capacity planning. Every account gets passwordHash, one active TOTP
// credential and its recovery codes; account(i, id) describes the i-th,
// given the id it will have, since a sealed secret is bound to its
// account id (auth.SecretAD). Ids follow the highest existing one.
//
// Hashing a million passwords with argon2id would take hours; sharing one
// precomputed hash is what makes the load take seconds. On SQLite the rows
// go in transactions of a few thousand accounts; on PostgreSQL by COPY in
// one transaction that locks out other inserts into accounts.
func (s *Store) BulkAccounts(ctx context.Context, n int, passwordHash string, now time.Time,
	account func(i int, id int64) (BulkAccount, error)) error {
	var err error
	if s.dialect == Postgres {
		err = s.bulkAccountsPostgres(ctx, n, passwordHash, now, account)
	} else {
		err = s.bulkAccountsSQLite(ctx, n, passwordHash, now, account)
	}
	if err != nil {
		return fmt.Errorf("store: bulk accounts: %w", err)
	}
	return nil
}

func (s *Store) bulkAccountsSQLite(ctx context.Context, n int, hash string, now time.Time,
	account func(int, int64) (BulkAccount, error)) error {
	for start := 0; start < n; start += bulkBatch {
		end := min(start+bulkBatch, n)
		err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
			var last int64
			if err := tx.QueryRowContext(ctx,
				"SELECT COALESCE(MAX(id), 0) FROM accounts").Scan(&last); err != nil {
				return err
			}
			ins, err := newSQLiteInserter(ctx, tx)
			if err != nil {
				return err
			}
			defer ins.close()
			for i := start; i < end; i++ {
				id := last + 1 + int64(i-start)
				b, err := account(i, id)
				if err != nil {
					return err
				}
				if err := ins.add(ctx, id, hash, unix(now), b); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// sqliteInserter holds the statements of one bulk transaction, prepared
// once: parsing each INSERT anew would cost more than running it.
type sqliteInserter struct {
	tx            *sql.Tx
	account, cred *sql.Stmt
	codes         map[int]*sql.Stmt
}

func newSQLiteInserter(ctx context.Context, tx *sql.Tx) (*sqliteInserter, error) {
	account, err := tx.PrepareContext(ctx, "INSERT INTO accounts "+
		"(id, email, password_hash, role, lang, created_at) VALUES (?, ?, ?, 'customer', 'en', ?)")
	if err != nil {
		return nil, err
	}
	cred, err := tx.PrepareContext(ctx, "INSERT INTO credentials (account_id, kind, name, "+
		"status, secret, last_step, created_at, activated_at) "+
		"VALUES (?, 'totp', 'Authenticator app', 'active', ?, 0, ?, ?)")
	if err != nil {
		account.Close()
		return nil, err
	}
	return &sqliteInserter{tx: tx, account: account, cred: cred, codes: map[int]*sql.Stmt{}}, nil
}

func (in *sqliteInserter) add(ctx context.Context, id int64, hash string, now int64,
	b BulkAccount) error {
	if _, err := in.account.ExecContext(ctx, id, b.Email, hash, now); err != nil {
		return err
	}
	if _, err := in.cred.ExecContext(ctx, id, b.Secret, now, now); err != nil {
		return err
	}
	if len(b.Codes) == 0 {
		return nil
	}
	stmt, err := in.codesStmt(ctx, len(b.Codes))
	if err != nil {
		return err
	}
	args := make([]any, 0, 3*len(b.Codes))
	for _, c := range b.Codes {
		args = append(args, id, c.Salt, c.Hash)
	}
	_, err = stmt.ExecContext(ctx, args...)
	return err
}

// codesStmt inserts all of one account's codes in one statement.
func (in *sqliteInserter) codesStmt(ctx context.Context, n int) (*sql.Stmt, error) {
	if st, ok := in.codes[n]; ok {
		return st, nil
	}
	values := strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", n), ", ")
	st, err := in.tx.PrepareContext(ctx,
		"INSERT INTO recovery_codes (account_id, salt, hash) VALUES "+values)
	if err != nil {
		return nil, err
	}
	in.codes[n] = st
	return st, nil
}

func (in *sqliteInserter) close() {
	in.account.Close()
	in.cred.Close()
	for _, st := range in.codes {
		st.Close()
	}
}

func (s *Store) bulkAccountsPostgres(ctx context.Context, n int, hash string, now time.Time,
	account func(int, int64) (BulkAccount, error)) error {
	return s.pgxTx(ctx, func(tx pgx.Tx) error {
		// Concurrent sign-ups wait until the load commits, so the ids
		// chosen here cannot be taken meanwhile.
		if _, err := tx.Exec(ctx, "LOCK TABLE accounts IN SHARE ROW EXCLUSIVE MODE"); err != nil {
			return err
		}
		var last int64
		if err := tx.QueryRow(ctx,
			"SELECT COALESCE(MAX(id), 0) FROM accounts").Scan(&last); err != nil {
			return err
		}
		rows := make([]BulkAccount, 0, bulkBatch)
		for start := 0; start < n; start += bulkBatch {
			rows = rows[:0]
			for i := start; i < min(start+bulkBatch, n); i++ {
				b, err := account(i, last+1+int64(i))
				if err != nil {
					return err
				}
				rows = append(rows, b)
			}
			if err := copyAccounts(ctx, tx, last+1+int64(start), hash, unix(now), rows); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, "SELECT setval(pg_get_serial_sequence('accounts', 'id'), "+
			"(SELECT MAX(id) FROM accounts))")
		return err
	})
}

// copyAccounts copies one batch of accounts, their credentials and codes.
func copyAccounts(ctx context.Context, tx pgx.Tx, first int64, hash string, now int64,
	rows []BulkAccount) error {
	accounts := make([][]any, len(rows))
	creds := make([][]any, len(rows))
	var codes [][]any
	for i, b := range rows {
		id := first + int64(i)
		accounts[i] = []any{id, b.Email, hash, "customer", "en", now}
		creds[i] = []any{id, "totp", "Authenticator app", "active", b.Secret, int64(0), now, now}
		for _, c := range b.Codes {
			codes = append(codes, []any{id, c.Salt, c.Hash})
		}
	}
	copies := []struct {
		table string
		cols  []string
		rows  [][]any
	}{
		{"accounts", []string{"id", "email", "password_hash", "role", "lang", "created_at"},
			accounts},
		{"credentials", []string{"account_id", "kind", "name", "status", "secret", "last_step",
			"created_at", "activated_at"}, creds},
		{"recovery_codes", []string{"account_id", "salt", "hash"}, codes},
	}
	for _, c := range copies {
		if len(c.rows) == 0 {
			continue
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{c.table}, c.cols, pgx.CopyFromRows(c.rows))
		if err != nil {
			return fmt.Errorf("copy %s: %w", c.table, err)
		}
	}
	return nil
}

// BulkSessions stores many sessions at once, for benchmarks that need
// thousands of half-signed-in sessions ready before their timed phase.
func (s *Store) BulkSessions(ctx context.Context, sessions []auth.Session) error {
	var err error
	if s.dialect == Postgres {
		err = s.pgxTx(ctx, func(tx pgx.Tx) error {
			rows := make([][]any, len(sessions))
			for i, ss := range sessions {
				rows[i] = []any{ss.IDHash, ss.AccountID, string(ss.Stage), unix(ss.CreatedAt),
					unix(ss.LastSeen), unix(ss.ExpiresAt), ss.IP, ss.UserAgent, viaRecovery(ss)}
			}
			_, err := tx.CopyFrom(ctx, pgx.Identifier{"sessions"},
				strings.Split(strings.ReplaceAll(sessionColumns, " ", ""), ","),
				pgx.CopyFromRows(rows))
			return err
		})
	} else {
		err = s.bulkSessionsSQLite(ctx, sessions)
	}
	if err != nil {
		return fmt.Errorf("store: bulk sessions: %w", err)
	}
	return nil
}

func (s *Store) bulkSessionsSQLite(ctx context.Context, sessions []auth.Session) error {
	for start := 0; start < len(sessions); start += bulkBatch {
		batch := sessions[start:min(start+bulkBatch, len(sessions))]
		err := s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
			for _, ss := range batch {
				if err := s.insertSession(ctx, tx, ss); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func viaRecovery(ss auth.Session) int64 {
	if ss.ViaRecovery {
		return 1
	}
	return 0
}

// pgxTx runs fn in a transaction on one pgx connection of the pool,
// which is what COPY needs; database/sql has no way to send it.
func (s *Store) pgxTx(ctx context.Context, fn func(pgx.Tx) error) error {
	conn, err := s.writeDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", driverConn)
		}
		return pgx.BeginFunc(ctx, c.Conn(), fn)
	})
}

// DatabaseSize reports the bytes the database takes: pages in use on
// SQLite (the free list included), pg_database_size on PostgreSQL.
func (s *Store) DatabaseSize(ctx context.Context) (int64, error) {
	query := "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"
	if s.dialect == Postgres {
		query = "SELECT pg_database_size(current_database())"
	}
	var n int64
	if err := s.read.QueryRowContext(ctx, query).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: database size: %w", err)
	}
	return n, nil
}

// Analyze settles PostgreSQL after a bulk load, as autovacuum would a
// little later: VACUUM ANALYZE refreshes the planner's statistics and the
// visibility map, so that neither the plans nor autovacuum's own work
// differ between a loaded database and one that grew over years. On
// SQLite it does nothing: clientarea never analyzes an SQLite database,
// so neither may a benchmark of it.
//
// Only the tables BulkAccounts fills are settled, as autovacuum, which
// leaves a table alone until rows change in it, would do. Vacuuming an
// empty table records it as empty (no pages, no rows), and a statement
// prepared while it holds a page or two is then planned as a sequential
// scan; the plan stays cached while the table grows under the load, until
// autovacuum's next analyze a minute later. A table never vacuumed is
// planned as if it held ten pages, which gives the index lookups a
// long-lived table gets.
func (s *Store) Analyze(ctx context.Context) error {
	if s.dialect != Postgres {
		return nil
	}
	// VACUUM cannot run inside a transaction; ExecContext sends it alone.
	if _, err := s.write.ExecContext(ctx,
		"VACUUM ANALYZE accounts, credentials, recovery_codes"); err != nil {
		return fmt.Errorf("store: analyze: %w", err)
	}
	return nil
}
