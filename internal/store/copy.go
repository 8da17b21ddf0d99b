package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
)

// tables lists every table in an order that satisfies foreign keys.
var tables = []string{"accounts", "credentials", "recovery_codes", "factor_guards", "throttles",
	"sessions", "events", "tokens", "recovery_requests", "settings"}

// identityTables have generated ids whose sequence must follow a copy.
var identityTables = []string{"accounts", "credentials", "recovery_codes", "events",
	"recovery_requests"}

// CopyTo copies every row into dst, whose schema must be current and whose
// tables must be empty, in one transaction on dst: an interrupted copy
// leaves dst as it was. Sealed secrets are copied as they are, so dst needs
// the same sealing key.
func (s *Store) CopyTo(ctx context.Context, dst *Store) error {
	return dst.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for _, t := range tables {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+t).Scan(&n); err != nil {
				return fmt.Errorf("store: copy: %w", err)
			}
			if n > 0 {
				return fmt.Errorf("store: copy: the target's %s table is not empty", t)
			}
			if err := s.copyTable(ctx, tx, dst, t); err != nil {
				return fmt.Errorf("store: copy %s: %w", t, err)
			}
		}
		if dst.dialect != Postgres {
			return nil
		}
		for _, t := range identityTables {
			_, err := tx.ExecContext(ctx, "SELECT setval(pg_get_serial_sequence('"+t+"', 'id'), "+
				"COALESCE((SELECT MAX(id) FROM "+t+"), 0) + 1, false)")
			if err != nil {
				return fmt.Errorf("store: copy: reset %s ids: %w", t, err)
			}
		}
		return nil
	})
}

func (s *Store) copyTable(ctx context.Context, tx *sql.Tx, dst *Store, table string) error {
	rows, err := s.read.QueryContext(ctx, "SELECT * FROM "+table)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	insert := dst.q("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (" +
		strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")")
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, insert, vals...); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Backup writes a consistent copy of an SQLite database to path while the
// server keeps running (VACUUM INTO reads one snapshot).
func (s *Store) Backup(ctx context.Context, path string) error {
	if s.dialect != SQLite {
		return fmt.Errorf("store: backup: use pg_dump for PostgreSQL")
	}
	// The copy holds everything the database does; create it private
	// before SQLite writes into it.
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	f.Close()
	if _, err := s.read.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		os.Remove(path)
		return fmt.Errorf("store: backup: %w", err)
	}
	return nil
}
