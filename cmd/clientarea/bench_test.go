package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clientarea/clientarea/internal/loadtest"
	"github.com/clientarea/clientarea/internal/storetest"
)

func TestBenchRefuses(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"another host", []string{"--url", "http://192.0.2.1:8080", "--data", "x"},
			"only 127.0.0.1 or ::1"},
		{"a host name", []string{"--url", "http://localhost:8080", "--data", "x"},
			"only 127.0.0.1 or ::1"},
		{"no database for --url", []string{"--url", "http://127.0.0.1:8080"},
			"needs --data or --database-url"},
		{"a remote database", []string{"--database-url", "postgres://db.example.com/x"},
			"must be on 127.0.0.1"},
		{"not postgres", []string{"--database-url", "mysql://127.0.0.1/x"},
			"want a postgres:// URL"},
		// The driver dials the host parameter, not the URL's host part.
		{"a remote host parameter", []string{"--database-url",
			"postgres://postgres@127.0.0.1:5432/x?host=192.0.2.1"}, "must be on 127.0.0.1"},
		{"a remote second host", []string{"--database-url",
			"postgres://127.0.0.1:5432,192.0.2.1:5432/x"}, "must be on 127.0.0.1"},
		{"a bad level", []string{"--levels", "1,zero"}, "--levels"},
		{"an unknown scenario", []string{"--scenarios", "idle,fast"}, "unknown scenario"},
		{"a small flood", []string{"--flood", "1"}, "--flood"},
		{"weak argon2", []string{"--hash-iterations", "0"}, "iterations"},
		{"a scale test smaller than the main one", []string{"--accounts", "2000000"},
			"--scale-accounts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(t.Context(), append([]string{"bench"}, tt.args...),
				sys{getenv: func(string) string { return "" }, stdin: strings.NewReader(""),
					stdout: &out, stderr: &errb})
			if code != 1 || !strings.Contains(errb.String(), tt.want) {
				t.Errorf("got exit %d, stderr %q; want exit 1 and %q", code, errb.String(),
					tt.want)
			}
			if out.Len() > 0 {
				t.Errorf("got output %q before refusing, want none", out.String())
			}
		})
	}
}

// buildClientarea builds this program, which the bench starts as its
// server: the test binary cannot stand in for it.
func buildClientarea(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the go tool is not on PATH")
		}
		t.Skip("the go tool is not on PATH")
	}
	bin := filepath.Join(t.TempDir(), "clientarea")
	out, err := exec.CommandContext(t.Context(), goTool, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestBenchSmoke runs every scenario with tiny numbers and cheap hashing
// and checks that the report is complete and well-formed. It asserts
// nothing about speed: the figures of a test run mean nothing.
func TestBenchSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program and starts five servers")
	}
	bin := buildClientarea(t)
	eachDatabase(t, func(t *testing.T, dbArgs []string) {
		report := filepath.Join(t.TempDir(), "bench.json")
		args := append([]string{"bench", "--server-bin", bin, "--accounts", "600",
			"--requests", "40", "--duration", "5s", "--levels", "1,8", "--flood", "20",
			"--scale-base", "100", "--scale-accounts", "900", "--hash-memory", "64",
			"--hash-iterations", "1", "--json", report}, dbArgs...)
		var out, errb bytes.Buffer
		env := map[string]string{"PATH": os.Getenv("PATH"), "HOME": os.Getenv("HOME")}
		code := run(context.Background(), args, sys{getenv: func(k string) string { return env[k] },
			stdin: strings.NewReader(""), stdout: &out, stderr: &errb})
		if code != 0 {
			t.Fatalf("bench exited with %d:\n%s", code, errb.String())
		}
		checkBenchReport(t, report, len(dbArgs) > 0)
		for _, want := range []string{"argon2id floor", "second factor", "budget:"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("the printed report lacks %q:\n%s", want, out.String())
			}
		}
	})
}

func checkBenchReport(t *testing.T, path string, postgres bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r benchReport
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("the JSON report does not decode: %v\n%s", err, b)
	}
	wantDB := "sqlite"
	if postgres {
		wantDB = "postgres"
	}
	if r.Database != wantDB || r.Machine.CPUs < 1 || r.Hash.MemoryKiB != 64 {
		t.Errorf("header: got %s, %+v, %+v; want %s, cpus, m=64", r.Database, r.Machine,
			r.Hash, wantDB)
	}
	// Five starts: empty, the small scale database, the main scenarios,
	// the flood, the large scale database.
	if len(r.Starts) != 5 || r.Starts[0].Accounts != 0 || r.Starts[4].Accounts != 900 {
		t.Errorf("starts: got %+v, want 5, from 0 to 900 accounts", r.Starts)
	}
	for _, s := range r.Starts {
		if s.FirstAnswer <= 0 || s.IdleRSS <= 0 {
			t.Errorf("start %q: got first answer %v, idle RSS %d; want both measured",
				s.Label, s.FirstAnswer, s.IdleRSS)
		}
	}
	if len(r.SecondFactor) != 2 {
		t.Fatalf("second factor: got %d levels, want 2", len(r.SecondFactor))
	}
	// Every code the harness sends must be accepted: a refused one would
	// mean it sent a replay or an account's code twice in a step. (Server
	// CPU is read from /proc in 10 ms ticks, so forty codes may show none.)
	for _, sf := range r.SecondFactor {
		if sf.Calls == 0 || sf.OK != sf.Calls || sf.ServerCPU < 0 {
			t.Errorf("second factor at %d: got %d ok of %d, server CPU %v; want all ok",
				sf.Concurrency, sf.OK, sf.Calls, sf.ServerCPU)
		}
	}
	if r.Floor == nil || r.Floor.PerSecond <= 0 || r.SignIn == nil || r.SignIn.OK == 0 ||
		r.SignIn.OK != r.SignIn.Calls || r.SignIn.OfFloor <= 0 {
		t.Errorf("sign-in: got floor %+v, sign-in %+v; want both measured, every sign-in ok",
			r.Floor, r.SignIn)
	}
	// The floor is timed in this process and in a hash worker, and is the
	// faster of the two.
	if f := r.Floor; f != nil {
		ways := map[string]float64{}
		fastest := 0.0
		for _, w := range f.Ways {
			ways[w.Way] = w.PerSecond
			if w.HashTime <= 0 || w.ParallelPerSecond <= 0 {
				t.Errorf("floor %q: got %+v, want it timed", w.Way, w)
			}
			fastest = max(fastest, w.PerSecond)
		}
		if len(ways) != 2 || ways["in this process"] <= 0 || ways["in a hash worker"] <= 0 ||
			f.PerSecond != fastest || ways[f.Way] != f.PerSecond {
			t.Errorf("floor: got %+v, want both ways timed and the faster one chosen", f)
		}
	}
	checkFloodReport(t, r)
	if len(r.Scale) != 2 || r.Scale[0].Accounts != 100 || r.Scale[1].Accounts != 900 ||
		r.Scale[1].BytesPerAccount <= 0 || r.Scale[1].SignIn.OK == 0 {
		t.Errorf("scale: got %+v, want 100 and 900 accounts with bytes per account", r.Scale)
	}
	if len(r.Budget) < 8 {
		t.Errorf("budget: got %d lines, want every line measured", len(r.Budget))
	}
}

func checkFloodReport(t *testing.T, r benchReport) {
	t.Helper()
	f := r.Flood
	if f == nil {
		t.Fatal("flood: missing")
	}
	// Every other sign-in has the wrong password; cheap hashing leaves
	// nothing to throttle or refuse as busy.
	if f.SignIns.Calls != 20 || f.SignIns.Statuses["200"] != 10 ||
		f.SignIns.Statuses["401"] != 10 {
		t.Errorf("flood: got statuses %v, want 10 of 200 and 10 of 401", f.SignIns.Statuses)
	}
	if f.Healthz.Calls == 0 || f.Healthz.Errors(200) != 0 || f.Page.Errors(200) != 0 ||
		f.PeakRSS <= 0 {
		t.Errorf("flood probes: got healthz %v, page %v, peak RSS %d; want answers and a peak",
			f.Healthz.Statuses, f.Page.Statuses, f.PeakRSS)
	}
}

// Without a host in the URL the driver dials PGHOST's, which decides.
func TestBenchDatabaseHostFromPGHOST(t *testing.T) {
	t.Setenv("PGHOST", "127.0.0.1")
	if err := checkLoopbackDatabase("postgres:///x"); err != nil {
		t.Errorf("PGHOST 127.0.0.1: got %v, want the database accepted", err)
	}
	t.Setenv("PGHOST", "192.0.2.1")
	if err := checkLoopbackDatabase("postgres:///x"); err == nil ||
		!strings.Contains(err.Error(), "must be on 127.0.0.1") {
		t.Errorf("PGHOST 192.0.2.1: got %v, want a refusal", err)
	}
}

// A database with anything in it is refused before the bench writes to it.
func TestBenchRefusesDatabaseNotEmpty(t *testing.T) {
	for _, tt := range []struct{ name, stmt string }{
		{"a table", "CREATE TABLE invoices (id int)"},
		{"a view alone", "CREATE VIEW answer AS SELECT 42 AS n"},
		{"a sequence in another schema", "CREATE SCHEMA billing; CREATE SEQUENCE billing.ids"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dsn := storetest.NewDatabase(t, storetest.Postgres)
			db, err := sql.Open("pgx", dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.ExecContext(t.Context(), tt.stmt); err != nil {
				t.Fatal(err)
			}
			var out, errb bytes.Buffer
			code := run(t.Context(), []string{"bench", "--database-url", dsn, "--scenarios",
				"idle"}, sys{getenv: func(string) string { return "" },
				stdin: strings.NewReader(""), stdout: &out, stderr: &errb})
			if code != 1 || !strings.Contains(errb.String(), "sequences: 1); give the bench") {
				t.Errorf("got exit %d, stderr %q; want exit 1 and a refusal", code,
					errb.String())
			}
			var accounts sql.NullString
			err = db.QueryRowContext(t.Context(), "SELECT to_regclass('accounts')::text").
				Scan(&accounts)
			if err != nil || accounts.Valid {
				t.Errorf("accounts table after the refusal: got %v, %v; want none", accounts,
					err)
			}
		})
	}
}

// The servers the bench starts dial the database the bench checked: the
// driver reads PG* variables, so they must see the same.
func TestBenchServerSeesPGVariables(t *testing.T) {
	t.Setenv("PGDATABASE", "checked")
	env := serverEnv(sys{getenv: func(k string) string {
		return map[string]string{"PATH": "/bin", "CLIENTAREA_SECRET_KEY": "k"}[k]
	}})
	if !slices.Contains(env, "PGDATABASE=checked") || !slices.Contains(env, "PATH=/bin") {
		t.Errorf("got %q, want PGDATABASE and PATH passed on", env)
	}
	for _, kv := range env {
		if strings.HasPrefix(kv, "CLIENTAREA_") {
			t.Errorf("got %q passed on, want no CLIENTAREA_* variable", kv)
		}
	}
}

// A flood the budget cannot judge fails the run.
func TestFloodComplete(t *testing.T) {
	answered := loadtest.Result{Calls: 4}
	tests := []struct {
		name string
		r    loadtest.FloodResult
		want string
	}{
		{"complete", loadtest.FloodResult{SignIns: answered, Healthz: answered, Page: answered},
			""},
		{"cut off", loadtest.FloodResult{SignIns: loadtest.Result{Calls: 3}, Healthz: answered,
			Page: answered}, "3 of 4 sign-ins answered"},
		{"no probe", loadtest.FloodResult{SignIns: answered, Page: answered},
			"never fetched"},
	}
	for _, tt := range tests {
		err := floodComplete(t.Context(), tt.r, 4)
		if (tt.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want %q", tt.name, err, tt.want)
		}
	}
}

// A measurement that made no call fails the run instead of giving the
// budget a verdict on nothing, and one whose calls waited for a new step
// says so.
func TestBenchMeasurementWithoutCalls(t *testing.T) {
	var progress bytes.Buffer
	now := time.Unix(1700000000, 0)
	clock := func() time.Time { return now }
	pool := loadtest.NewPool(1, clock, func(_ context.Context, d time.Duration) error {
		now = now.Add(d)
		return nil
	})
	b := &bencher{app: &app{store: storetest.Open(t, storetest.SQLite)}, pool: pool,
		opt: benchOptions{duration: 3 * time.Second}, progress: &progress}
	_, err := b.measureGrowth(t.Context(), "second factor, concurrency 8",
		func() loadtest.Result { return loadtest.Result{Concurrency: 8} })
	if err == nil || !strings.Contains(err.Error(), "no call within --duration 3s") {
		t.Errorf("no calls: got %v, want an error naming --duration", err)
	}
	if progress.Len() > 0 {
		t.Errorf("no waits: got progress %q, want no warning", progress.String())
	}
	_, err = b.measureGrowth(t.Context(), "sign-in", func() loadtest.Result {
		for range 2 { // the one account twice in a step: the second waits
			if _, _, err := pool.Use(t.Context(), 0); err != nil {
				t.Fatal(err)
			}
		}
		return loadtest.Result{Concurrency: 8, Calls: 2, OK: 2, Statuses: map[string]int{"200": 2}}
	})
	if err != nil || !strings.Contains(progress.String(), "sign-in: warning: waits for an account's next 30-second step: 1;") {
		t.Errorf("a call that waited: got %v and progress %q, want a warning", err,
			progress.String())
	}
}
