package store_test

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/clientarea/clientarea/internal/auth"
	"github.com/clientarea/clientarea/internal/store"
	"github.com/clientarea/clientarea/internal/storetest"
)

func TestMigrate(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		st := storetest.OpenEmpty(t, storetest.NewDatabase(t, dialect))
		if got := string(st.Dialect()); got != dialect {
			t.Errorf("Dialect: got %s, want %s", got, dialect)
		}
		for i := range 3 {
			if err := st.Migrate(t.Context()); err != nil {
				t.Fatalf("Migrate #%d: %v", i+1, err)
			}
			db, bin, err := st.SchemaStatus(t.Context())
			if err != nil {
				t.Fatalf("SchemaStatus: %v", err)
			}
			if db != bin || bin < 1 {
				t.Fatalf("after Migrate #%d: got database %d, binary %d; want equal and >= 1",
					i+1, db, bin)
			}
		}
		// The schema works: an account goes in and comes out.
		a := newAccount(t, st, "migrated@example.com")
		if _, err := st.AccountByID(t.Context(), a.ID); err != nil {
			t.Errorf("AccountByID after migrating: %v", err)
		}
	})
}

// TestMigrateConcurrently starts several instances on one empty database at
// once, as a cluster does after an upgrade: they must take turns, not fail.
func TestMigrateConcurrently(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		dsn := storetest.NewDatabase(t, dialect)
		stores := make([]*store.Store, 4)
		for i := range stores {
			stores[i] = storetest.OpenEmpty(t, dsn)
		}
		errs := make([]error, len(stores))
		storetest.Race(len(stores), func(i int) { errs[i] = stores[i].Migrate(t.Context()) })
		for i, err := range errs {
			if err != nil {
				t.Errorf("instance %d: Migrate: %v", i, err)
			}
		}
		db, bin, err := stores[0].SchemaStatus(t.Context())
		if err != nil || db != bin {
			t.Errorf("SchemaStatus: got %d, %d, %v; want equal versions", db, bin, err)
		}
	})
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		dsn := storetest.NewDatabase(t, dialect)
		st := storetest.OpenEmpty(t, dsn)
		if err := st.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		_, bin, err := st.SchemaStatus(t.Context())
		if err != nil {
			t.Fatalf("SchemaStatus: %v", err)
		}

		// A newer clientarea migrated this database after us.
		raw := rawDB(t, dialect, dsn)
		insert := "INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)"
		if dialect == storetest.Postgres {
			insert = "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)"
		}
		if _, err := raw.ExecContext(t.Context(), insert, bin+1); err != nil {
			t.Fatalf("insert newer version: %v", err)
		}

		err = st.Migrate(t.Context())
		if !errors.Is(err, store.ErrSchemaTooNew) {
			t.Fatalf("Migrate: got %v, want ErrSchemaTooNew", err)
		}
		db, _, err := st.SchemaStatus(t.Context())
		if err != nil || db != bin+1 {
			t.Errorf("SchemaStatus: got %d, %v; want %d", db, err, bin+1)
		}
	})
}

// rawDB opens dsn with the driver the store registers, for what the Store
// API cannot do, such as planting a newer schema version.
func rawDB(t *testing.T, dialect, dsn string) *sql.DB {
	t.Helper()
	driver := "sqlite"
	if dialect == storetest.Postgres {
		driver = "pgx"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("open raw database: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestAccounts(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ctx := t.Context()
		a := newAccount(t, st, "alice@example.com")

		_, err := st.CreateAccount(ctx, auth.Account{Email: "alice@example.com",
			PasswordHash: "other", Role: auth.RoleCustomer, Lang: "en", CreatedAt: t0})
		if !errors.Is(err, auth.ErrConflict) {
			t.Errorf("CreateAccount with a taken e-mail: got %v, want ErrConflict", err)
		}

		byEmail, err := st.AccountByEmail(ctx, "alice@example.com")
		if err != nil {
			t.Fatalf("AccountByEmail: %v", err)
		}
		if byEmail != a {
			t.Errorf("AccountByEmail: got %+v, want %+v", byEmail, a)
		}
		if byEmail.PasswordHash != "hash" {
			t.Errorf("the refused duplicate changed the hash: got %q, want %q",
				byEmail.PasswordHash, "hash")
		}
		if _, err := st.AccountByEmail(ctx, "bob@example.com"); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("AccountByEmail(unknown): got %v, want ErrNotFound", err)
		}
		if _, err := st.AccountByID(ctx, a.ID+100); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("AccountByID(unknown): got %v, want ErrNotFound", err)
		}
		if err := st.SetPasswordHash(ctx, a.ID+100, "x"); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("SetPasswordHash(unknown): got %v, want ErrNotFound", err)
		}
		if err := st.SetPasswordHash(ctx, a.ID, "new"); err != nil {
			t.Fatalf("SetPasswordHash: %v", err)
		}
		if err := st.SetLang(ctx, a.ID, "ru"); err != nil {
			t.Fatalf("SetLang: %v", err)
		}
		got, err := st.AccountByID(ctx, a.ID)
		if err != nil || got.PasswordHash != "new" || got.Lang != "ru" {
			t.Errorf("AccountByID after updates: got %+v, %v; want hash new, lang ru", got, err)
		}
	})
}

// TestCreateAccountRace signs one address up from many requests at once:
// the UNIQUE constraint, not a lookup first, must leave exactly one account.
func TestCreateAccountRace(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		const n = 20
		errs := make([]error, n)
		storetest.Race(n, func(i int) {
			_, errs[i] = st.CreateAccount(t.Context(), auth.Account{Email: "race@example.com",
				PasswordHash: "h", Role: auth.RoleCustomer, Lang: "en", CreatedAt: t0})
		})
		created := 0
		for i, err := range errs {
			switch {
			case err == nil:
				created++
			case !errors.Is(err, auth.ErrConflict):
				t.Errorf("goroutine %d: got %v, want nil or ErrConflict", i, err)
			}
		}
		if created != 1 {
			t.Errorf("accounts created: got %d, want 1", created)
		}
	})
}

func TestSearchAccounts(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		for _, e := range []string{"a_b@example.com", "axb@example.com", "c%d@example.com",
			"cxd@example.com", `e\f@example.com`} {
			newAccount(t, st, e)
		}
		tests := []struct {
			query string
			want  []string
		}{
			// LIKE's wildcards in a query are literal characters.
			{"a_b", []string{"a_b@example.com"}},
			{"c%d", []string{"c%d@example.com"}},
			{`e\f`, []string{`e\f@example.com`}},
			{"AXB", []string{"axb@example.com"}},
			{"nobody", nil},
		}
		for _, tt := range tests {
			t.Run(tt.query, func(t *testing.T) {
				as, err := st.SearchAccounts(t.Context(), tt.query, 10)
				if err != nil {
					t.Fatalf("SearchAccounts: %v", err)
				}
				var got []string
				for _, a := range as {
					got = append(got, a.Email)
				}
				if len(got) != len(tt.want) || (len(got) > 0 && got[0] != tt.want[0]) {
					t.Errorf("got %q, want %q", got, tt.want)
				}
			})
		}
	})
}

// TestOpenSQLitePath: SQLite opens "file:" URIs, so a folder name with '?',
// '#' or '%' must reach it escaped, or the database (and its pragmas) end
// up elsewhere.
func TestOpenSQLitePath(t *testing.T) {
	for _, name := range []string{"a#b", "a?b", "a%20b", "a b", "ü"} {
		t.Run(name, func(t *testing.T) {
			parent := t.TempDir()
			path := filepath.Join(parent, name, "clientarea.db")
			st := storetest.OpenEmpty(t, path)
			if err := st.Migrate(t.Context()); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("database file: %v", err)
			}
			entries, err := os.ReadDir(parent)
			if err != nil || len(entries) != 1 || entries[0].Name() != name {
				t.Errorf("folders made: got %v, %v; want only %q", entries, err, name)
			}
			// foreign_keys(1) comes after the path: a credential of no
			// account is refused only if the pragma took effect.
			_, err = st.AddPendingCredential(t.Context(), pendingCredential(404, "s"))
			if err == nil {
				t.Error("AddPendingCredential(no such account): got nil, want a foreign key error")
			}
		})
	}
}

// TestSQLiteFilesPrivate: the database and its copies hold password hashes
// and sealed secrets; nobody but the owner may read them.
func TestSQLiteFilesPrivate(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(t.Context(), filepath.Join(dir, "db.sqlite"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "backup.sqlite")
	if err := st.Backup(t.Context(), backup); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"db.sqlite", "db.sqlite-wal", "backup.sqlite"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s: got mode %v, want no access for group and others", name, perm)
		}
	}
}
