// Package store keeps clientarea's state in SQL: SQLite, embedded, by
// default, or PostgreSQL when several instances share one database. Both
// run the same queries through database/sql; where the dialects differ
// (schema types, placeholders, error codes) the difference is kept here.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/clientarea/clientarea/internal/auth"
)

//go:embed migrations
var migrations embed.FS

// Dialect names a database engine.
type Dialect string

// Dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// ErrSchemaTooNew means the database was migrated by a newer clientarea.
var ErrSchemaTooNew = errors.New("store: database schema is newer than this binary")

// Options tunes the connection pools. Zero values take the defaults.
type Options struct {
	// MaxConns bounds the read pool on SQLite and the whole pool on
	// PostgreSQL (default 10).
	MaxConns int
	// StatementTimeout bounds every statement on PostgreSQL (default 5s).
	StatementTimeout time.Duration
}

// Store implements auth.Store.
type Store struct {
	dialect Dialect
	// SQLite allows one writer at a time; giving writes their own pool of
	// one connection queues them in Go instead of spinning on SQLITE_BUSY.
	// On PostgreSQL both point at the same pool.
	readDB, writeDB *sql.DB
	// read and write are where queries go: the two pools, or, in a Store
	// made by Atomic, both the one transaction (txn).
	read, write querier
	txn         *sql.Tx
	// batch, on SQLite, runs Atomic's units of work several to a commit.
	batch *batcher
	// batched marks a Store handed to one of those units: its statements
	// cannot be cancelled (see batcher).
	batched bool
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func newStore(d Dialect, read, write *sql.DB) *Store {
	return &Store{dialect: d, readDB: read, writeDB: write, read: read, write: write}
}

var _ auth.Store = (*Store)(nil)

// IsPostgresURL reports whether dsn names a PostgreSQL database.
func IsPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open connects to dsn (a postgres:// URL, or the path of an SQLite file
// that is created if missing), without migrating.
func Open(ctx context.Context, dsn string, opt Options) (*Store, error) {
	if opt.MaxConns <= 0 {
		opt.MaxConns = 10
	}
	if opt.StatementTimeout <= 0 {
		opt.StatementTimeout = 5 * time.Second
	}
	var s *Store
	var err error
	if IsPostgresURL(dsn) {
		s, err = openPostgres(dsn, opt)
	} else {
		s, err = openSQLite(dsn, opt)
	}
	if err != nil {
		return nil, err
	}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	return s, nil
}

func openSQLite(path string, opt Options) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: create data folder: %w", err)
	}
	// SQLite creates the database, and its -wal and -shm files after it,
	// with the mode of the file; an empty file is an empty database, so
	// making it first keeps all three private whatever the umask.
	if f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600); err == nil {
		f.Close()
	}
	// WAL lets readers go on while the one writer writes; NORMAL sync is
	// safe with WAL (a crash may lose the last commits, never corrupt).
	// A checkpoint every 10,000 WAL pages, not SQLite's 1,000, copies back
	// the pages that every sign-in changes a tenth as often, and stalls a
	// commit a tenth as often; the -wal file grows to about 40 MB.
	base := "file:" + uriEscaper.Replace(path) +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=wal_autocheckpoint(10000)"
	read, err := openSQLiteDB(base)
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	read.SetMaxOpenConns(opt.MaxConns)
	read.SetMaxIdleConns(opt.MaxConns)
	// BEGIN IMMEDIATE takes the write lock at the start of a transaction,
	// so a transaction never fails half-way on an upgrade from read to write.
	write, err := openSQLiteDB(base + "&_txlock=immediate")
	if err != nil {
		read.Close()
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	write.SetMaxOpenConns(1)
	s := newStore(SQLite, read, write)
	s.batch = newBatcher(s)
	return s, nil
}

// uriEscaper escapes a file path for a "file:" URI: unescaped, '?' or '#'
// in a folder name would end the path, so the database would be opened
// elsewhere and without the pragmas that follow it.
var uriEscaper = strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23")

func openPostgres(dsn string, opt Options) (*Store, error) {
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	ms := strconv.FormatInt(opt.StatementTimeout.Milliseconds(), 10)
	db, err := sql.Open("pgx", dsn+sep+"statement_timeout="+ms)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	db.SetMaxOpenConns(opt.MaxConns)
	db.SetMaxIdleConns(opt.MaxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return newStore(Postgres, db, db), nil
}

// Dialect tells which engine s runs on.
func (s *Store) Dialect() Dialect { return s.dialect }

// Pool returns the read pool (on PostgreSQL, the only pool), for metrics.
func (s *Store) Pool() *sql.DB { return s.readDB }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.readDB.PingContext(ctx) }

// Close closes the pools.
func (s *Store) Close() error {
	if s.batch != nil {
		s.batch.close()
	}
	err := s.readDB.Close()
	if s.writeDB != s.readDB {
		err = errors.Join(err, s.writeDB.Close())
	}
	return err
}

// Migrate applies every migration the database lacks, each in its own
// transaction. It refuses a database whose schema is newer than it knows.
func (s *Store) Migrate(ctx context.Context) error {
	files, err := s.migrationFiles()
	if err != nil {
		return err
	}
	return s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if s.dialect == Postgres {
			// Instances that start together take turns migrating.
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(7263401)"); err != nil {
				return err
			}
		}
		create := "CREATE TABLE IF NOT EXISTS schema_migrations " +
			"(version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)"
		if _, err := tx.ExecContext(ctx, create); err != nil {
			return err
		}
		current, err := schemaVersion(ctx, tx)
		if err != nil {
			return err
		}
		if current > len(files) {
			return fmt.Errorf("%w (database %d, binary %d)", ErrSchemaTooNew, current, len(files))
		}
		for v := current + 1; v <= len(files); v++ {
			if _, err := tx.ExecContext(ctx, files[v-1]); err != nil {
				return fmt.Errorf("migration %d: %w", v, err)
			}
			_, err := tx.ExecContext(ctx, s.q("INSERT INTO schema_migrations VALUES (?, ?)"),
				v, time.Now().Unix())
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// SchemaStatus reports the database's schema version and the binary's.
func (s *Store) SchemaStatus(ctx context.Context) (database, binary int, err error) {
	files, err := s.migrationFiles()
	if err != nil {
		return 0, 0, err
	}
	err = s.read.QueryRowContext(ctx,
		"SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&database)
	if err != nil {
		return 0, len(files), fmt.Errorf("store: schema version: %w", err)
	}
	return database, len(files), nil
}

func schemaVersion(ctx context.Context, tx *sql.Tx) (int, error) {
	var v int
	err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&v)
	return v, err
}

// migrationFiles returns the dialect's migrations in order; file names
// start with their version number, counted from 1 without gaps.
func (s *Store) migrationFiles() ([]string, error) {
	dir := "migrations/" + string(s.dialect)
	entries, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return nil, fmt.Errorf("store: read migrations: %w", err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	files := make([]string, len(names))
	for i, name := range names {
		if want := fmt.Sprintf("%04d_", i+1); !strings.HasPrefix(name, want) {
			return nil, fmt.Errorf("store: migration %s out of sequence", name)
		}
		b, err := fs.ReadFile(migrations, dir+"/"+name)
		if err != nil {
			return nil, fmt.Errorf("store: read migration: %w", err)
		}
		files[i] = string(b)
	}
	return files, nil
}

// q rewrites the ? placeholders of a query for the dialect.
func (s *Store) q(query string) string {
	if s.dialect != Postgres {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Atomic runs fn with a Store whose every read and write is part of one
// transaction, committed when fn returns nil and rolled back otherwise; see
// auth.Store. On SQLite the transaction holds the database's one write
// lock from its first statement (BEGIN IMMEDIATE), and units that arrive
// together share it (see batcher); on PostgreSQL it runs at READ
// COMMITTED, and LockAccount orders what must be ordered. A deadlock on
// PostgreSQL runs fn again, so fn must not act outside the transaction.
func (s *Store) Atomic(ctx context.Context, fn func(auth.Store) error) error {
	if s.txn != nil {
		return s.nested(ctx, fn)
	}
	if s.batch != nil {
		return s.batch.do(ctx, fn)
	}
	return s.tx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		in := *s
		in.read, in.write, in.txn = tx, tx, tx
		return fn(&in)
	})
}

// nested runs fn inside the open transaction, in a savepoint of its own,
// so that an error rolls back fn's writes and only fn's. A savepoint's name
// may be reused: each release or rollback finds the innermost.
func (s *Store) nested(ctx context.Context, fn func(auth.Store) error) error {
	if _, err := s.write.ExecContext(ctx, "SAVEPOINT nested"); err != nil {
		return fmt.Errorf("store: savepoint: %w", err)
	}
	if err := fn(s); err != nil {
		if _, rerr := s.write.ExecContext(ctx, "ROLLBACK TO SAVEPOINT nested"); rerr != nil {
			return errors.Join(err, fmt.Errorf("store: rollback to savepoint: %w", rerr))
		}
		return err
	}
	if _, err := s.write.ExecContext(ctx, "RELEASE SAVEPOINT nested"); err != nil {
		return fmt.Errorf("store: release savepoint: %w", err)
	}
	return nil
}

// LockAccount makes the rest of the transaction wait for, and then hold,
// the account; see auth.Store. On SQLite the transaction already excludes
// every other writer. FOR NO KEY UPDATE, unlike FOR UPDATE, lets other
// transactions go on adding rows that refer to the account.
func (s *Store) LockAccount(ctx context.Context, accountID int64) error {
	if s.txn == nil {
		return errors.New("store: lock account: not in a transaction")
	}
	if s.dialect != Postgres {
		return nil
	}
	var one int
	err := s.write.QueryRowContext(ctx,
		"SELECT 1 FROM accounts WHERE id = $1 FOR NO KEY UPDATE", accountID).Scan(&one)
	if err != nil {
		return fmt.Errorf("store: lock account: %w", notFound(err))
	}
	return nil
}

// tx runs fn in a write transaction and commits it when fn returns nil.
// On PostgreSQL a serialization failure or deadlock is retried. Within
// Atomic, fn joins the transaction that is open.
func (s *Store) tx(ctx context.Context, fn func(context.Context, *sql.Tx) error) error {
	if s.txn != nil {
		if s.batched {
			ctx = context.WithoutCancel(ctx)
		}
		return fn(ctx, s.txn)
	}
	for attempt := 0; ; attempt++ {
		err := s.tryTx(ctx, fn)
		if err == nil || attempt == 4 || !retryable(err) {
			return err
		}
	}
}

func (s *Store) tryTx(ctx context.Context, fn func(context.Context, *sql.Tx) error) error {
	tx, err := s.writeDB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	// Deferred, so that a panic in fn does not leave the transaction, and
	// its connection, open; after a commit it does nothing.
	defer tx.Rollback()
	if err := fn(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

func retryable(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && (pg.Code == "40001" || pg.Code == "40P01")
}

// isUnique reports whether err is a unique-constraint violation.
func isUnique(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "23505"
	}
	var lite *sqlite.Error
	if errors.As(err, &lite) {
		c := lite.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// exec runs a write statement and returns the number of rows it changed.
func (s *Store) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := s.write.ExecContext(ctx, s.q(query), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func fromUnix(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}

func nullUnix(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromUnix(n.Int64)
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return auth.ErrNotFound
	}
	return err
}
