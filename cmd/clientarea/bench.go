package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clientarea/clientarea/internal/auth"
	"github.com/clientarea/clientarea/internal/config"
	"github.com/clientarea/clientarea/internal/loadtest"
	"github.com/clientarea/clientarea/internal/password"
	"github.com/clientarea/clientarea/internal/recoverycode"
	"github.com/clientarea/clientarea/internal/store"
	"github.com/jackc/pgx/v5/pgconn"
)

// benchScenarios are the measurements of `clientarea bench`, in the
// order they run; docs/benchmarks.md describes each.
func benchScenarios() []string {
	return []string{"idle", "second-factor", "signin", "flood", "scale"}
}

// benchOptions are the settings of one `clientarea bench` run.
type benchOptions struct {
	url, data, databaseURL, serverBin, work, jsonPath string
	serverPID                                         int
	accounts, scaleBase, scaleAccounts                int
	requests, signinConcurrency, flood                int
	duration                                          time.Duration
	levels                                            []int
	scenarios                                         map[string]bool
	hash                                              password.Params
	keep                                              bool
	profile                                           string
}

func parseBenchFlags(args []string, s sys) (benchOptions, error) {
	var o benchOptions
	d := config.Defaults()
	fs := flagSet("bench", s)
	fs.StringVar(&o.url, "url", "", "load the running server at http://127.0.0.1:PORT instead "+
		"of starting one; --data or --database-url then name its database")
	fs.IntVar(&o.serverPID, "server-pid", 0, "with --url: the server's process id, for its "+
		"memory and CPU figures")
	fs.StringVar(&o.data, "data", "", "with --url: the server's data folder")
	fs.StringVar(&o.databaseURL, "database-url", "", "postgres:// URL of an empty database on "+
		"127.0.0.1 (default: SQLite in a fresh data folder)")
	fs.IntVar(&o.accounts, "accounts", 100000, "accounts with 2FA on for the main scenarios")
	fs.IntVar(&o.scaleBase, "scale-base", 1000, "accounts in the scale test's small database")
	fs.IntVar(&o.scaleAccounts, "scale-accounts", 1000000, "accounts in its large database")
	fs.IntVar(&o.requests, "requests", 20000, "most requests of one measurement")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "longest time of one measurement")
	fs.IntVar(&o.signinConcurrency, "signin-concurrency", 8, "customers signing in at once")
	fs.IntVar(&o.flood, "flood", 1000, "sign-ins that start at once in the flood")
	fs.StringVar(&o.jsonPath, "json", "", "also write the results to this file as JSON")
	fs.StringVar(&o.serverBin, "server-bin", "", "the clientarea binary to start "+
		"(default: this program)")
	fs.StringVar(&o.work, "work", "", "folder for the data folder and the server logs "+
		"(default: a temporary folder, removed afterwards)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary folder")
	fs.StringVar(&o.profile, "profile", "", "write CPU profiles of each server start and of "+
		"the bench itself into this folder (go tool pprof reads them)")
	mem := fs.Uint("hash-memory", d.HashMemoryKiB, "argon2id memory in KiB (the server's)")
	iter := fs.Uint("hash-iterations", d.HashIterations, "argon2id iterations (the server's)")
	lanes := fs.Uint("hash-lanes", d.HashLanes, "argon2id lanes (the server's)")
	levels := fs.String("levels", "1,8,64", "concurrencies of the second-factor measurement")
	scenarios := fs.String("scenarios", strings.Join(benchScenarios(), ","), "what to measure")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	o.hash = password.Params{Memory: uint32(*mem), Iterations: uint32(*iter),
		Parallelism: uint8(*lanes), SaltLen: 16, KeyLen: 32}
	var err error
	if o.levels, err = parseLevels(*levels); err != nil {
		return o, err
	}
	if o.scenarios, err = parseScenarios(*scenarios); err != nil {
		return o, err
	}
	return o, o.check()
}

func parseLevels(s string) ([]int, error) {
	var out []int
	for part := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n < 1 || n > 4096 {
			return nil, fmt.Errorf("--levels: %q is not a concurrency from 1 to 4096", part)
		}
		out = append(out, n)
	}
	return out, nil
}

func parseScenarios(s string) (map[string]bool, error) {
	out := map[string]bool{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if !slices.Contains(benchScenarios(), part) {
			return nil, fmt.Errorf("--scenarios: unknown scenario %q (known: %s)", part,
				strings.Join(benchScenarios(), ", "))
		}
		out[part] = true
	}
	return out, nil
}

func (o *benchOptions) check() error {
	if err := o.hash.Validate(); err != nil {
		return err
	}
	switch {
	case o.accounts < 1 || o.requests < 1 || o.duration <= 0 || o.signinConcurrency < 1:
		return errors.New("--accounts, --requests, --duration and --signin-concurrency " +
			"must be positive")
	case o.flood < 2 || o.flood > 5000:
		return errors.New("--flood must be from 2 to 5000")
	case o.scenarios["scale"] && (o.scaleBase < 2 || o.scaleBase > o.accounts ||
		o.scaleAccounts <= o.accounts):
		// The scale test loads the small database first and grows it to
		// the large one last, with the main scenarios in between.
		return errors.New("want 2 <= --scale-base <= --accounts < --scale-accounts")
	}
	if o.databaseURL != "" {
		if err := checkLoopbackDatabase(o.databaseURL); err != nil {
			return err
		}
	}
	if o.url == "" {
		return nil
	}
	if err := loadtest.CheckLoopback(o.url); err != nil {
		return err
	}
	if o.data == "" && o.databaseURL == "" {
		return errors.New("--url needs --data or --database-url: the bench loads its " +
			"accounts into the server's database")
	}
	// Without the process there is nothing to start or measure at rest,
	// and the scale test needs a database it may fill from empty.
	delete(o.scenarios, "idle")
	delete(o.scenarios, "scale")
	return nil
}

// checkLoopbackDatabase refuses a database on another machine: the bench
// writes a million rows, and it loads only what runs on this one. The
// hosts are those the driver will dial, in the bench and in the servers
// it starts (serverEnv gives them the same PG* variables), which a URL's
// host part alone does not tell: a host parameter, a list of hosts or
// PGHOST may name others.
func checkLoopbackDatabase(dsn string) error {
	if !store.IsPostgresURL(dsn) {
		return errors.New("--database-url: want a postgres:// URL")
	}
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		// The parser's message may quote the URL, password and all.
		return errors.New("--database-url: the driver cannot read it; check the URL, " +
			"the PG* environment variables and any files they name")
	}
	hosts := []string{cfg.Host}
	for _, f := range cfg.Fallbacks {
		hosts = append(hosts, f.Host)
	}
	for _, h := range hosts {
		a, err := netip.ParseAddr(h)
		if err != nil || !a.Unmap().IsLoopback() {
			return errors.New("--database-url: the database must be on 127.0.0.1 or ::1")
		}
	}
	return nil
}

// bencher holds one bench run: the workspace, the bench's own connection
// to the database, the accounts loaded so far and the report.
type bencher struct {
	opt      benchOptions
	sys      sys
	rand     io.Reader
	work     string
	tempWork bool
	data     string
	app      *app
	accounts loadtest.Accounts
	pool     *loadtest.Pool
	// ids[i] is the database id of load-test account i.
	ids      []int64
	pwHash   string
	codes    []auth.RecoveryCode
	starts   int
	report   benchReport
	progress io.Writer
}

// bench measures a clientarea server under load; docs/benchmarks.md
// explains the scenarios and how to read the figures.
func bench(ctx context.Context, args []string, s sys) error {
	o, err := parseBenchFlags(args, s)
	if err != nil {
		return err
	}
	if o.databaseURL != "" && o.url == "" {
		if err := checkEmptyDatabase(ctx, o.databaseURL); err != nil {
			return err
		}
	}
	if o.profile != "" {
		if err := os.MkdirAll(o.profile, 0o700); err != nil {
			return err
		}
		stop, err := startProfile(filepath.Join(o.profile, "bench.cpu.pprof"))
		if err != nil {
			return err
		}
		defer stop()
	}
	b, err := newBencher(ctx, o, s)
	if err != nil {
		return err
	}
	err = b.run(ctx)
	err = errors.Join(err, b.close())
	if err != nil {
		return err
	}
	b.report.Budget = budget(b.report)
	printReport(s.stdout, b.report)
	if o.jsonPath != "" {
		return writeReport(o.jsonPath, b.report)
	}
	return nil
}

func newBencher(ctx context.Context, o benchOptions, s sys) (*bencher, error) {
	b := &bencher{opt: o, sys: s, rand: rand.Reader, progress: s.stderr}
	if err := b.workspace(); err != nil {
		return nil, err
	}
	seed := make([]byte, 32)
	tag := make([]byte, 4)
	if _, err := io.ReadFull(b.rand, seed); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(b.rand, tag); err != nil {
		return nil, err
	}
	b.accounts = loadtest.NewAccounts(seed, hex.EncodeToString(tag))
	b.pool = loadtest.NewPool(0, s.now, loadtest.Sleep)
	b.report = newReport(o)
	return b, nil
}

// workspace makes the folder for the data folder and the server logs.
func (b *bencher) workspace() error {
	if b.opt.serverBin == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find the clientarea binary: %w", err)
		}
		b.opt.serverBin = exe
	}
	b.work = b.opt.work
	if b.work == "" {
		dir, err := os.MkdirTemp("", "clientarea-bench-")
		if err != nil {
			return err
		}
		b.work, b.tempWork = dir, true
	} else if err := os.MkdirAll(b.work, 0o700); err != nil {
		return err
	}
	b.data = filepath.Join(b.work, "data")
	if b.opt.url != "" {
		b.data = b.opt.data
	}
	return nil
}

func (b *bencher) close() error {
	var err error
	if b.app != nil {
		err = b.app.Close()
	}
	if b.tempWork && !b.opt.keep {
		err = errors.Join(err, os.RemoveAll(b.work))
	}
	return err
}

func (b *bencher) logf(format string, args ...any) {
	fmt.Fprintf(b.progress, "bench: "+format+"\n", args...)
}

// run carries out the scenarios. Each server start measures the time to
// the first answer and the idle memory; the flood gets a server of its
// own, so that the peak memory it reports is the flood's.
func (b *bencher) run(ctx context.Context) error {
	sc := b.opt.scenarios
	if sc["idle"] {
		idle := func(context.Context, *benchServer) error { return nil }
		if err := b.restart(ctx, "empty database", idle); err != nil {
			return err
		}
	}
	if err := b.open(ctx); err != nil {
		return err
	}
	if sc["scale"] {
		if err := b.scale(ctx, b.opt.scaleBase); err != nil {
			return err
		}
	}
	if err := b.load(ctx, max(b.opt.accounts, len(b.ids))); err != nil {
		return err
	}
	if sc["second-factor"] || sc["signin"] || sc["idle"] {
		if err := b.restart(ctx, "", b.mainScenarios); err != nil {
			return err
		}
	}
	if sc["flood"] {
		if err := b.restart(ctx, "", b.floodScenario); err != nil {
			return err
		}
	}
	if sc["scale"] {
		return b.scale(ctx, max(b.opt.scaleAccounts, len(b.ids)))
	}
	return nil
}

// restart starts a server, or in --url mode uses the one given, runs fn
// against it, and stops it.
func (b *bencher) restart(ctx context.Context, label string,
	fn func(context.Context, *benchServer) error) error {
	if b.opt.url != "" {
		srv := &benchServer{URL: strings.TrimRight(b.opt.url, "/"), PID: b.opt.serverPID}
		return fn(ctx, srv)
	}
	srv, err := b.startServer(ctx)
	if err != nil {
		return err
	}
	if label == "" {
		label = fmt.Sprintf("%d accounts", len(b.ids))
	}
	b.report.Starts = append(b.report.Starts, startFigures{Label: label, Accounts: len(b.ids),
		FirstAnswer: loadtest.Millis(srv.FirstAnswer), IdleRSS: srv.IdleRSS})
	b.logf("server %d (%s) answered after %v, idle RSS %.1f MB", b.starts, label,
		srv.FirstAnswer.Round(time.Millisecond), mb(srv.IdleRSS))
	err = fn(ctx, srv)
	return errors.Join(err, srv.stop())
}

// open connects the bench to the database the way the server does, so
// that what it loads is sealed with the server's key.
func (b *bencher) open(ctx context.Context) error {
	cfg := config.Defaults()
	cfg.Data, cfg.DatabaseURL, cfg.LogLevel = b.data, b.opt.databaseURL, "warn"
	if b.opt.url != "" {
		cfg.SecretKey = b.sys.getenv("CLIENTAREA_SECRET_KEY")
	}
	a, err := openApp(ctx, cfg, b.sys)
	if err != nil {
		return err
	}
	b.app = a
	b.report.Database = string(a.store.Dialect())
	if b.opt.url != "" {
		return nil
	}
	// Refusing a database with accounts keeps the bench from filling a
	// real one, and the scale test from starting with more than it says.
	some, err := a.store.SearchAccounts(ctx, "", 1)
	if err != nil {
		return err
	}
	if len(some) > 0 {
		return errors.New("the database already holds accounts; give the bench an empty one")
	}
	return b.prepareSecrets(ctx)
}

// checkEmptyDatabase refuses a PostgreSQL database that holds any table,
// before the bench or its first server writes to it: the bench creates its
// schema there and fills it, which it must not do beside someone's data,
// and its scale test starts from nothing. (The check for accounts in open
// comes after a server has made the schema, and on a database an earlier
// run filled, after the sealing key, made afresh for each run, is found
// not to match.)
func checkEmptyDatabase(ctx context.Context, dsn string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return fmt.Errorf("--database-url: %w", err)
	}
	defer db.Close()
	// Tables, views, materialized views, sequences and foreign tables, in
	// any schema but the system's; other sessions' temporary tables are
	// theirs, not the database's.
	var relations int
	err = db.QueryRowContext(ctx, "SELECT count(*) FROM pg_catalog.pg_class c "+
		"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "+
		"WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "+
		"AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') "+
		"AND n.nspname NOT LIKE 'pg\\_temp\\_%' "+
		"AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'").Scan(&relations)
	if err != nil {
		return fmt.Errorf("--database-url: %w", err)
	}
	if relations > 0 {
		return fmt.Errorf("--database-url: the database is not empty (tables, views or "+
			"sequences: %d); give the bench an empty one", relations)
	}
	return nil
}

// prepareSecrets makes the password hash every load-test account shares
// and one set of recovery codes, stored with each account so that the
// database grows by what a real account with 2FA takes.
func (b *bencher) prepareSecrets(ctx context.Context) error {
	h := password.NewHasher(b.opt.hash, 1, time.Minute)
	hash, err := h.Hash(ctx, loadtest.Password)
	if err != nil {
		return err
	}
	b.pwHash = hash
	salt, err := recoverycode.NewSalt(nil)
	if err != nil {
		return err
	}
	codes, err := recoverycode.Generate(nil)
	if err != nil {
		return err
	}
	for _, c := range codes {
		norm, err := recoverycode.Normalize(c)
		if err != nil {
			return err
		}
		b.codes = append(b.codes, auth.RecoveryCode{Salt: salt, Hash: recoverycode.Hash(norm, salt)})
	}
	return nil
}

// load adds accounts until n exist, in bulk through the store.
func (b *bencher) load(ctx context.Context, n int) error {
	if b.pwHash == "" {
		if err := b.prepareSecrets(ctx); err != nil {
			return err
		}
	}
	from := len(b.ids)
	if n <= from {
		return nil
	}
	start := time.Now()
	b.logf("loading accounts %d to %d", from, n)
	b.ids = append(b.ids, make([]int64, n-from)...)
	st, keys := b.app.store, b.app.keys
	err := st.BulkAccounts(ctx, n-from, b.pwHash, b.sys.now(),
		func(i int, id int64) (store.BulkAccount, error) {
			b.ids[from+i] = id
			secret, err := keys.Seal(b.accounts.Secret(from+i), auth.SecretAD(id))
			return store.BulkAccount{Email: b.accounts.Email(from + i), Secret: secret,
				Codes: b.codes}, err
		})
	if err != nil {
		b.ids = b.ids[:from]
		return err
	}
	if err := st.Analyze(ctx); err != nil {
		return err
	}
	b.pool.Resize(n)
	b.logf("loaded %d accounts in %v", n-from, time.Since(start).Round(time.Millisecond))
	return nil
}

// sessions stores n sessions of stage for the next n accounts of the
// pool, as the password step would have made them, and returns them.
func (b *bencher) sessions(ctx context.Context, n int, stage auth.Stage) (
	[]loadtest.HalfSession, error) {
	lifetime := auth.DefaultPolicy().HalfSignInWindow
	if stage == auth.StageFull {
		lifetime = auth.DefaultPolicy().SessionLifetime
	}
	now := b.sys.now()
	out := make([]loadtest.HalfSession, n)
	stored := make([]auth.Session, n)
	for i, a := range b.pool.Reserve(n) {
		raw := make([]byte, 32)
		if _, err := io.ReadFull(b.rand, raw); err != nil {
			return nil, err
		}
		token := base64.RawURLEncoding.EncodeToString(raw)
		out[i] = loadtest.HalfSession{Account: a, Token: token}
		stored[i] = auth.Session{IDHash: auth.HashToken(token), AccountID: b.ids[a],
			Stage: stage, CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(lifetime),
			IP: loadtest.ClientIP(a), UserAgent: "clientarea bench"}
	}
	return out, b.app.store.BulkSessions(ctx, stored)
}

// target is the load generator aimed at srv.
func (b *bencher) target(srv *benchServer, conns int) (*loadtest.Target, error) {
	c, err := loadtest.NewClient(srv.URL, conns)
	if err != nil {
		return nil, err
	}
	t := &loadtest.Target{Client: c, Accounts: b.accounts, Pool: b.pool, PID: srv.PID,
		Now: b.sys.now}
	if b.report.Database == string(store.Postgres) {
		t.Database = "postgres"
	}
	return t, nil
}

// mainScenarios measures the second factor at each concurrency and whole
// sign-ins against the argon2id floor.
func (b *bencher) mainScenarios(ctx context.Context, srv *benchServer) error {
	if b.opt.scenarios["second-factor"] {
		for _, c := range b.opt.levels {
			r, err := b.secondFactor(ctx, srv, c, b.opt.requests)
			if err != nil {
				return err
			}
			b.report.SecondFactor = append(b.report.SecondFactor, r)
		}
	}
	if b.opt.scenarios["signin"] {
		// The floor is timed just before and just after the sign-ins, with the
		// server idle, rather than once at the start of the run: the speed of
		// a shared virtual machine drifts by a few per cent over minutes, and
		// the ratio should compare the two at the same moment.
		hashers, err := newFloorHashers(b.opt.hash, b.logf)
		if err != nil {
			return err
		}
		defer hashers.close()
		before, err := hashers.times(ctx, false)
		if err != nil {
			return err
		}
		r, err := b.signIn(ctx, srv, b.opt.requests)
		if err != nil {
			return err
		}
		after, err := hashers.times(ctx, true)
		if err != nil {
			return err
		}
		for i, way := range hashers.ways {
			b.logf("argon2id %s: one hash %.1f ms before the sign-ins, %.1f ms after", way.name,
				loadtest.Summarize(before[i]).P50.Float(), loadtest.Summarize(after[i]).P50.Float())
		}
		if err := b.setFloor(ctx, hashers, before, after); err != nil {
			return err
		}
		r.OfFloor = r.PerSecond / b.report.Floor.PerSecond
		r.OfParallel = r.PerSecond / b.report.Floor.ParallelPerSecond
		for _, w := range b.report.Floor.Ways {
			b.logf("sign-in: %.1f%% of the floor of one hash %s%s", 100*r.PerSecond/w.PerSecond,
				w.Way, floorRole(b.report.Floor, w))
		}
		b.report.SignIn = &r
	}
	return nil
}

func (b *bencher) secondFactor(ctx context.Context, srv *benchServer, c, n int) (
	loadFigures, error) {
	sessions, err := b.sessions(ctx, n, auth.StagePassword)
	if err != nil {
		return loadFigures{}, err
	}
	t, err := b.target(srv, c)
	if err != nil {
		return loadFigures{}, err
	}
	defer t.Client.Close()
	l := loadtest.Load{Concurrency: c, Requests: n, Duration: b.opt.duration}
	name := fmt.Sprintf("second factor, concurrency %d", c)
	r, err := b.measureGrowth(ctx, name, func() loadtest.Result {
		return t.SecondFactor(ctx, l, sessions)
	})
	b.logf("%s: %d ok of %d, %.0f/s, p99 %.2f ms", name, r.OK, r.Calls, r.PerSecond,
		r.Latency.P99.Float())
	return r, err
}

func (b *bencher) signIn(ctx context.Context, srv *benchServer, n int) (signinFigures, error) {
	t, err := b.target(srv, b.opt.signinConcurrency)
	if err != nil {
		return signinFigures{}, err
	}
	defer t.Client.Close()
	l := loadtest.Load{Concurrency: b.opt.signinConcurrency, Requests: n,
		Duration: b.opt.duration}
	lf, err := b.measureGrowth(ctx, "sign-in", func() loadtest.Result { return t.SignIn(ctx, l) })
	r := signinFigures{loadFigures: lf}
	b.logf("sign-in: %d ok of %d, %.1f/s", r.OK, r.Calls, r.PerSecond)
	return r, err
}

// measureGrowth runs a measurement and adds how much the database grew
// per successful call: the events and other rows a sign-in leaves. A
// measurement that made no call is an error, so that no budget line is
// judged on nothing.
func (b *bencher) measureGrowth(ctx context.Context, name string, run func() loadtest.Result) (
	loadFigures, error) {
	before, err := b.app.store.DatabaseSize(ctx)
	if err != nil {
		return loadFigures{}, err
	}
	waits := b.pool.Waits()
	r := loadFigures{Result: run()}
	b.warnWaits(name, b.pool.Waits()-waits)
	if err := ctx.Err(); err != nil {
		return r, err
	}
	if r.Calls == 0 {
		return r, fmt.Errorf("%s: no call within --duration %v; most likely every account "+
			"had sent its code of this 30-second step already: give more --accounts",
			name, b.opt.duration)
	}
	after, err := b.app.store.DatabaseSize(ctx)
	if err != nil {
		return r, err
	}
	if r.OK > 0 {
		r.DatabaseBytesEach = float64(after-before) / float64(r.OK)
	}
	return r, nil
}

// warnWaits says when calls of a measurement had to wait for their
// account's next 30-second step: n is the pool's count of waits, which,
// unlike a result's waited_calls, also counts calls that the end of the
// measurement cut off while they waited. The latencies leave the waits
// out, but the rate counts them.
func (b *bencher) warnWaits(name string, n int) {
	if n > 0 {
		b.logf("%s: warning: waits for an account's next 30-second step: %d; they lower "+
			"the rate measured: give more --accounts", name, n)
	}
}

// floodScenario sends the flood with a signed-in customer watching.
func (b *bencher) floodScenario(ctx context.Context, srv *benchServer) error {
	full, err := b.sessions(ctx, 1, auth.StageFull)
	if err != nil {
		return err
	}
	t, err := b.target(srv, b.opt.flood+2)
	if err != nil {
		return err
	}
	defer t.Client.Close()
	waits := b.pool.Waits()
	r := t.Flood(ctx, loadtest.Flood{Size: b.opt.flood, Session: full[0].Token, PagePath: "/",
		ProbeEvery: 10 * time.Millisecond, Limit: 5 * time.Minute})
	b.report.Flood = &r
	b.warnWaits("flood", b.pool.Waits()-waits)
	b.logf("flood of %d: statuses %v, peak RSS %.1f MB, /healthz p99 %.2f ms", b.opt.flood,
		r.SignIns.Statuses, mb(r.PeakRSS), r.Healthz.Latency.P99.Float())
	return floodComplete(ctx, r, b.opt.flood)
}

// floodComplete refuses a flood the budget cannot judge: sign-ins still
// unanswered when its time ran out are left out of its figures, and a
// /healthz that was never asked has a p99 of nothing.
func floodComplete(ctx context.Context, r loadtest.FloodResult, size int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if r.SignIns.Calls < size {
		return fmt.Errorf("flood: %d of %d sign-ins answered before its time ran out",
			r.SignIns.Calls, size)
	}
	if r.Healthz.Calls == 0 || r.Page.Calls == 0 {
		return errors.New("flood: /healthz or the signed-in page was never fetched during it")
	}
	return nil
}

// scale grows the database to n accounts and measures sign-ins and the
// second factor there. Half of the smaller database's accounts go to
// each measurement, and both sizes make the same number of calls, so
// that no account is asked twice in one step and the sizes compare.
func (b *bencher) scale(ctx context.Context, n int) error {
	before, err := b.app.store.DatabaseSize(ctx)
	if err != nil {
		return err
	}
	from := len(b.ids)
	if err := b.load(ctx, n); err != nil {
		return err
	}
	after, err := b.app.store.DatabaseSize(ctx)
	if err != nil {
		return err
	}
	fig := scaleFigures{Accounts: n, DatabaseBytes: after}
	if n > from {
		fig.BytesPerAccount = float64(after-before) / float64(n-from)
	}
	calls := min(b.opt.requests, b.opt.scaleBase/2)
	err = b.restart(ctx, "", func(ctx context.Context, srv *benchServer) error {
		sf, err := b.secondFactor(ctx, srv, 8, calls)
		if err != nil {
			return err
		}
		si, err := b.signIn(ctx, srv, calls)
		fig.SecondFactor, fig.SignIn = sf, si
		return err
	})
	b.report.Scale = append(b.report.Scale, fig)
	return err
}

// inProcessWay names the floor's hash timed in the bench's own process,
// the floor as the budget states it.
const inProcessWay = "in this process"

// hashRounds is how many hashes each timing of the floor makes, and
// warmRounds how many each core makes before the parallel rate is timed.
const hashRounds, warmRounds = 20, 5

// hashTimes times hashRounds hashes one after another, after one for
// warming up.
func hashTimes(ctx context.Context, h *password.Hasher) ([]time.Duration, error) {
	if _, err := h.Hash(ctx, loadtest.Password); err != nil {
		return nil, err
	}
	times := make([]time.Duration, hashRounds)
	for i := range times {
		start := time.Now()
		if _, err := h.Hash(ctx, loadtest.Password); err != nil {
			return nil, err
		}
		times[i] = time.Since(start)
	}
	return times, nil
}

// floorHashers are the ways the floor's hash is timed: in this process, as
// the budget states the floor, and in hash workers, the processes the
// server hashes in. The floor is the faster, since it stands for the most
// the machine can hash: on the machine of docs/benchmarks.md a worker, which
// runs nothing but the hash, on one processor, was 15-20% faster than this
// process. A worker that fails takes its way out of the floor, with a
// warning: its hashes were made in this process.
type floorHashers struct {
	ways []floorWay
	mu   sync.Mutex
	errs []error // from the workers
}

type floorWay struct {
	name   string
	h      *password.Hasher
	worker bool
}

func newFloorHashers(p password.Params, logf func(string, ...any)) (*floorHashers, error) {
	f := &floorHashers{}
	cores := runtime.NumCPU()
	f.ways = []floorWay{{name: inProcessWay, h: password.NewHasher(p, cores, time.Minute)}}
	if !p.FitsWorker() {
		logf("argon2id: parameters above a hash worker's limits, which the server hashes " +
			"in its own process: the floor is timed there alone")
		return f, nil
	}
	// The workers are this program's own, whatever --server-bin names: the
	// floor is the speed of the best way this build knows.
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find this binary for hash workers: %w", err)
	}
	f.ways = append(f.ways, floorWay{name: "in a hash worker", worker: true,
		h: password.NewHasher(p, cores, time.Minute,
			password.WithWorkers([]string{exe, hashWorkerCommand}, f.workerFailed))})
	return f, nil
}

func (f *floorHashers) workerFailed(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, err)
}

// failed reports the workers' failures so far.
func (f *floorHashers) failed() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return errors.Join(f.errs...)
}

// times times one hash each way, in the given order or the reverse, so
// that neither way is always timed first.
func (f *floorHashers) times(ctx context.Context, reverse bool) ([][]time.Duration, error) {
	out := make([][]time.Duration, len(f.ways))
	for j := range f.ways {
		i := j
		if reverse {
			i = len(f.ways) - 1 - j
		}
		var err error
		if out[i], err = hashTimes(ctx, f.ways[i].h); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (f *floorHashers) close() {
	for _, w := range f.ways {
		w.h.Close()
	}
}

// setFloor records the argon2id floor: cores ÷ the median time of one
// hash, the most sign-ins a second the machine could do if it did nothing
// else, by the faster way. The rate with one hash per core at once is
// measured too, since cores share memory bandwidth and caches; the floor's
// is the highest of the ways'.
func (b *bencher) setFloor(ctx context.Context, f *floorHashers,
	before, after [][]time.Duration) error {
	cores := runtime.NumCPU()
	fl := &floorFigures{Cores: cores}
	for i, w := range f.ways {
		one := loadtest.Summarize(append(before[i], after[i]...)).P50
		parallel, err := parallelHashRate(ctx, w.h, cores)
		if err != nil {
			return err
		}
		if err := f.failed(); w.worker && err != nil {
			b.logf("argon2id %s: left out of the floor, a worker failed: %v", w.name, err)
			continue
		}
		way := hashFigures{Way: w.name, HashTime: one,
			PerSecond: float64(cores) / time.Duration(one).Seconds(), ParallelPerSecond: parallel}
		fl.Ways = append(fl.Ways, way)
		if way.PerSecond > fl.PerSecond {
			fl.hashFigures = way
		}
		b.logf("argon2id %s: one hash %.1f ms, %d cores ÷ that = %.1f sign-ins/s "+
			"(%.1f/s measured with every core hashing)", w.name, one.Float(), cores,
			way.PerSecond, parallel)
	}
	for _, w := range fl.Ways {
		fl.ParallelPerSecond = max(fl.ParallelPerSecond, w.ParallelPerSecond)
	}
	b.report.Floor = fl
	return nil
}

// parallelHashRate runs one stream of hashes per core and times them from
// the moment every core has made a few, by when the heap has grown to what
// that many hashes at once need. In a fresh process on the machine of
// docs/benchmarks.md, the first twenty hashes on each of two cores came
// out at 58-63 a second and the next twenty at 84-94.
func parallelHashRate(ctx context.Context, h *password.Hasher, cores int) (float64, error) {
	var wg, warm sync.WaitGroup
	errs := make(chan error, cores)
	ready := make(chan struct{})
	warm.Add(cores)
	for range cores {
		wg.Go(func() {
			var err error
			for i := 0; err == nil && i < warmRounds; i++ {
				_, err = h.Hash(ctx, loadtest.Password)
			}
			warm.Done()
			<-ready
			for i := 0; err == nil && i < hashRounds; i++ {
				_, err = h.Hash(ctx, loadtest.Password)
			}
			errs <- err
		})
	}
	warm.Wait()
	start := time.Now()
	close(ready)
	wg.Wait()
	elapsed := time.Since(start)
	for range cores {
		if err := <-errs; err != nil {
			return 0, err
		}
	}
	return float64(cores*hashRounds) / elapsed.Seconds(), nil
}

// mb is n bytes in megabytes of 10^6 bytes, the unit of the budget's
// memory lines. (Go's runtime and GODEBUG=gctrace count in MiB, 5% more
// bytes each.)
func mb(n int64) float64 { return float64(n) / 1e6 }
