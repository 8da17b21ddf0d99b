// Package storetest opens fresh, migrated databases for tests, on SQLite and
// on PostgreSQL, and builds an auth.Service around one with cheap parameters.
//
// PostgreSQL is used when CLIENTAREA_TEST_POSTGRES_URL names a server whose
// user may create databases. Every test gets a database of its own, dropped
// when the test ends, so tests never see each other's rows.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"github.com/clientarea/clientarea/internal/auth"
	"github.com/clientarea/clientarea/internal/mail"
	"github.com/clientarea/clientarea/internal/password"
	"github.com/clientarea/clientarea/internal/seal"
	"github.com/clientarea/clientarea/internal/store"
)

// PostgresURLVar names the environment variable with the URL of a PostgreSQL
// server for tests, such as
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable.
const PostgresURLVar = "CLIENTAREA_TEST_POSTGRES_URL"

// Dialect names as Open takes them.
const (
	SQLite   = string(store.SQLite)
	Postgres = string(store.Postgres)
)

// Dialects returns the dialects every store test runs on. PostgreSQL is
// listed even without a server: Open then skips, or fails under CI=true,
// so that a missing server is seen rather than silently untested.
func Dialects(t testing.TB) []string {
	t.Helper()
	return []string{SQLite, Postgres}
}

// EachDialect runs fn as one subtest per dialect, named after it.
func EachDialect(t *testing.T, fn func(t *testing.T, dialect string)) {
	t.Helper()
	for _, d := range Dialects(t) {
		t.Run(d, func(t *testing.T) { fn(t, d) })
	}
}

// Open returns a store on a new database of dialect with every migration
// applied. The store is closed, and a PostgreSQL database dropped, when the
// test ends.
func Open(t testing.TB, dialect string) *store.Store {
	t.Helper()
	st := OpenEmpty(t, NewDatabase(t, dialect))
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatalf("storetest: migrate %s: %v", dialect, err)
	}
	return st
}

// OpenEmpty opens the database dsn, made by NewDatabase, without migrating
// it, and closes it when the test ends.
func OpenEmpty(t testing.TB, dsn string) *store.Store {
	t.Helper()
	st, err := store.Open(t.Context(), dsn, store.Options{})
	if err != nil {
		t.Fatalf("storetest: open: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("storetest: close: %v", err)
		}
	})
	return st
}

// NewDatabase creates an empty database of dialect and returns what
// store.Open takes for it: the path of an SQLite file in t.TempDir(), or
// the URL of a PostgreSQL database named clientarea_test_<random>, dropped
// when the test ends. Without CLIENTAREA_TEST_POSTGRES_URL a PostgreSQL test
// is skipped, or fails when CI=true.
func NewDatabase(t testing.TB, dialect string) string {
	t.Helper()
	switch dialect {
	case SQLite:
		return filepath.Join(t.TempDir(), "clientarea.db")
	case Postgres:
		return newPostgres(t)
	}
	t.Fatalf("storetest: unknown dialect %q", dialect)
	return ""
}

func newPostgres(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(PostgresURLVar)
	if admin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("storetest: %s is not set; CI must test PostgreSQL", PostgresURLVar)
		}
		t.Skipf("storetest: %s is not set", PostgresURLVar)
	}
	u, err := url.Parse(admin)
	if err != nil {
		// The URL may hold a password, so it stays out of the message.
		t.Fatalf("storetest: parse %s: invalid URL", PostgresURLVar)
	}
	name := "clientarea_test_" + randomHex(t, 8)
	// The name is made of [a-z0-9_] only, so it needs no quoting.
	adminExec(t, admin, "CREATE DATABASE "+name)
	t.Cleanup(func() { adminExec(t, admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	u.Path = "/" + name
	return u.String()
}

// adminExec runs one statement on the server's administrative database.
// It does not use t.Context(), which is already cancelled in cleanups.
func adminExec(t testing.TB, dsn, stmt string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatalf("storetest: connect to postgres: %v", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		t.Fatalf("storetest: %s: %v", stmt, err)
	}
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("storetest: random: %v", err)
	}
	return hex.EncodeToString(b)
}

// BaseURL is the public address of test services.
const BaseURL = "http://127.0.0.1"

// Config returns the configuration NewService uses, for a test that must
// change a part of it (such as Rand) before calling auth.NewService, and the
// outbox folder its e-mails go to.
func Config(t testing.TB, st auth.Store, now func() time.Time) (auth.Config, string) {
	t.Helper()
	var key seal.Key
	if _, err := rand.Read(key[:]); err != nil {
		t.Fatalf("storetest: seal key: %v", err)
	}
	keys, err := seal.NewKeyring(key)
	if err != nil {
		t.Fatalf("storetest: keyring: %v", err)
	}
	dir := filepath.Join(t.TempDir(), "outbox")
	// The outbox keeps the real clock: it names files by the time of
	// sending, and under a stopped test clock they would no longer sort in
	// the order they were sent.
	outbox := &mail.Outbox{Dir: dir, From: "Client Area <noreply@127.0.0.1>"}
	// A generous wait for a hashing slot: race tests sign in from many
	// goroutines at once and must not fail with ErrBusy.
	hasher := password.NewHasher(hasherParams(), 0, time.Minute)
	cfg := auth.Config{Store: st, Hasher: hasher, Keyring: keys, Mailer: outbox,
		BaseURL: BaseURL, Now: now, DeviceKey: key[:]}
	return cfg, dir
}

// NewService returns a Service on st with the clock now, small argon2
// parameters, a random sealing key and an outbox in t.TempDir(), whose
// folder it returns (read it with mail.ReadOutbox).
func NewService(t testing.TB, st auth.Store, now func() time.Time) (*auth.Service, string) {
	t.Helper()
	cfg, dir := Config(t, st, now)
	svc, err := auth.NewService(cfg)
	if err != nil {
		t.Fatalf("storetest: new service: %v", err)
	}
	return svc, dir
}

// hasherParams are nearly the smallest argon2 parameters the Hasher
// accepts, so that a test can sign in hundreds of times.
func hasherParams() password.Params {
	return password.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}
}

// Clock is a clock that moves only when told. It is safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock standing at now.
func NewClock(now time.Time) *Clock {
	return &Clock{now: now}
}

// Now returns the clock's time; pass the method value as a service's clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t, also backwards.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Add moves the clock by d and returns the new time.
func (c *Clock) Add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// Race runs fn(i) for i in [0, n) in n goroutines released at the same
// moment, so that under -race the calls overlap as much as the scheduler
// allows instead of running one after another. It returns when all end.
func Race(n int, fn func(i int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}
