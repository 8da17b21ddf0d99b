package password

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The test binary doubles as the worker: started with one of these words as its only
// argument it serves, or fails, instead of running the tests.
const (
	workerArg       = "password-worker"
	brokenWorkerArg = "password-worker-that-exits"
	hungWorkerArg   = "password-worker-that-hangs"
	// quickReleaseWorkerArg is a worker that gives its memory back 10 ms after a hash.
	quickReleaseWorkerArg = "password-worker-that-releases-quickly"
)

func TestMain(m *testing.M) {
	if len(os.Args) == 2 {
		switch os.Args[1] {
		case workerArg:
			if err := ServeWorker(os.Stdin, os.Stdout); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			os.Exit(0)
		case brokenWorkerArg:
			os.Exit(3)
		case quickReleaseWorkerArg:
			idleRelease = 10 * time.Millisecond
			if err := ServeWorker(os.Stdin, os.Stdout); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			os.Exit(0)
		case hungWorkerArg:
			io.Copy(io.Discard, os.Stdin) // reads the request and never answers
			os.Exit(0)
		}
	}
	// A binary built with -race sleeps a second before it exits, by default, to let late
	// reports in; the workers these tests start would each make Close wait that second.
	if _, set := os.LookupEnv("GORACE"); !set {
		os.Setenv("GORACE", "atexit_sleep_ms=0")
	}
	os.Exit(m.Run())
}

// errorLog collects the errors a Hasher reports about its workers.
type errorLog struct {
	mu   sync.Mutex
	errs []error
}

func (l *errorLog) add(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, err)
}

func (l *errorLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.errs)
}

// clock is a Hasher's clock that moves only when told, for the wait after a failure.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newWorkerHasher(t *testing.T, arg string, log *errorLog, opts ...Option) *Hasher {
	t.Helper()
	opts = append(opts, WithWorkers([]string{os.Args[0], arg}, log.add))
	h := NewHasher(testParams, 2, time.Minute, opts...)
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return h
}

// TestWorkersMatchReferenceVectors checks hashes made in a worker against the reference
// implementation's, and that a worker, not the fallback, made them.
func TestWorkersMatchReferenceVectors(t *testing.T) {
	var log errorLog
	h := newWorkerHasher(t, workerArg, &log)
	ctx := context.Background()
	for _, v := range cliVectors {
		if _, err := h.Verify(ctx, v.encoded, v.password); err != nil {
			t.Errorf("%s: Verify = %v, want nil", v.name, err)
		}
		if _, err := h.Verify(ctx, v.encoded, v.password+"x"); !errors.Is(err, ErrMismatch) {
			t.Errorf("%s: Verify of a wrong password = %v, want ErrMismatch", v.name, err)
		}
	}
	if n := log.count(); n != 0 {
		t.Errorf("%d worker errors: %v", n, log.errs)
	}
	if n := len(h.workers.idle); n != 1 {
		t.Errorf("%d idle workers after hashing one at a time, want 1", n)
	}
}

// TestWorkersInParallel hashes from many goroutines at once through two slots, so that two
// workers run side by side and are reused.
func TestWorkersInParallel(t *testing.T) {
	var log errorLog
	h := newWorkerHasher(t, workerArg, &log)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			pw := fmt.Sprintf("password %d", i)
			encoded, err := h.Hash(ctx, pw)
			if err != nil {
				t.Errorf("Hash: %v", err)
				return
			}
			if _, err := h.Verify(ctx, encoded, pw); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
	wg.Wait()
	if n := log.count(); n != 0 {
		t.Errorf("%d worker errors: %v", n, log.errs)
	}
	if n := len(h.workers.idle); n < 1 || n > 2 {
		t.Errorf("%d idle workers, want 1 or 2 (one per slot at most)", n)
	}
}

// TestBrokenWorkerFallsBack uses a worker that exits at once: every hash must still be
// right, made in the process, and workers are tried again only after a wait that doubles
// with every failure.
func TestBrokenWorkerFallsBack(t *testing.T) {
	var log errorLog
	clk := &clock{t: time.Unix(1700000000, 0)}
	h := newWorkerHasher(t, brokenWorkerArg, &log, WithClock(clk.now))
	v := cliVectors[0]
	verify := func(wantErrors int) {
		t.Helper()
		if _, err := h.Verify(context.Background(), v.encoded, v.password); err != nil {
			t.Errorf("Verify = %v, want nil", err)
		}
		if n := log.count(); n != wantErrors {
			t.Errorf("%d worker errors reported, want %d", n, wantErrors)
		}
	}
	verify(1)
	verify(1) // within the first second: no worker tried
	clk.advance(time.Second)
	verify(2)
	clk.advance(time.Second)
	verify(2) // the wait is two seconds now
	clk.advance(time.Second)
	verify(3)
}

// TestWorkerKilledBetweenHashes kills an idle worker: the next hash falls back and reports
// it, and once the wait after a failure is over a new worker makes the hashes.
func TestWorkerKilledBetweenHashes(t *testing.T) {
	var log errorLog
	clk := &clock{t: time.Unix(1700000000, 0)}
	h := newWorkerHasher(t, workerArg, &log, WithClock(clk.now))
	ctx := context.Background()
	v := cliVectors[0]
	if _, err := h.Verify(ctx, v.encoded, v.password); err != nil {
		t.Fatalf("Verify = %v", err)
	}
	w := h.workers.idle[0]
	if err := w.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill worker: %v", err)
	}
	waitDead(t, w.cmd.Process.Pid)

	if _, err := h.Verify(ctx, v.encoded, v.password); err != nil {
		t.Errorf("Verify after the worker died = %v, want nil", err)
	}
	if n := log.count(); n != 1 {
		t.Errorf("%d worker errors reported, want 1", n)
	}
	clk.advance(time.Second)
	if _, err := h.Verify(ctx, v.encoded, v.password); err != nil {
		t.Errorf("Verify with a new worker = %v, want nil", err)
	}
	if n := len(h.workers.idle); n != 1 || h.workers.idle[0] == w {
		t.Errorf("idle workers %d (the dead one kept: %v), want one new one", n,
			n > 0 && h.workers.idle[0] == w)
	}
	if n := log.count(); n != 1 {
		t.Errorf("%d worker errors reported, want still 1", n)
	}
}

// waitDead waits until process pid has exited (a zombie, not yet waited for), without
// waiting for it, which would close the pipes the Hasher still holds.
func waitDead(t *testing.T, pid int) {
	t.Helper()
	for {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			t.Skip("needs Linux's /proc")
		}
		if _, rest, ok := strings.Cut(string(b), ") "); ok && strings.HasPrefix(rest, "Z") {
			return
		}
		runtime.Gosched()
	}
}

// TestHungWorker gives the worker no answer to wait for: the hash must come back right,
// made in the process, and the worker must be gone.
func TestHungWorker(t *testing.T) {
	var log errorLog
	h := newWorkerHasher(t, hungWorkerArg, &log)
	h.workers.timeout = 50 * time.Millisecond
	v := cliVectors[0]
	if _, err := h.Verify(context.Background(), v.encoded, v.password); err != nil {
		t.Errorf("Verify = %v, want nil", err)
	}
	if n := log.count(); n != 1 || !strings.Contains(log.errs[0].Error(), "no answer") {
		t.Errorf("worker errors %v, want one about no answer", log.errs)
	}
	if pids := workerProcesses(t, hungWorkerArg); len(pids) != 0 {
		t.Errorf("hung workers %v still running", pids)
	}
}

// TestParamsAboveWorkerLimit verifies a hash whose parameters the Hasher accepts but a worker
// would refuse: it is made in the process, and that is no failure.
func TestParamsAboveWorkerLimit(t *testing.T) {
	high := testParams
	high.Parallelism = workerLimit.Parallelism + 1
	high.Memory = 8 * uint32(high.Parallelism)
	encoded, err := NewHasher(high, 1, time.Minute).Hash(context.Background(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	var log errorLog
	maxParams := defaultMax(high)
	h := newWorkerHasher(t, workerArg, &log, WithMaxParams(maxParams))
	if _, err := h.Verify(context.Background(), encoded, "pw"); err != nil {
		t.Errorf("Verify = %v, want nil", err)
	}
	if n := log.count(); n != 0 {
		t.Errorf("worker errors %v, want none", log.errs)
	}
	if n := len(h.workers.idle); n != 0 {
		t.Errorf("%d workers started for a hash none may make", n)
	}
	if high.FitsWorker() || !DefaultParams().FitsWorker() {
		t.Errorf("FitsWorker: %t for parameters above the limit, %t for the defaults; want false, true",
			high.FitsWorker(), DefaultParams().FitsWorker())
	}
}

// workerProcesses lists this process's children started with arg, from /proc.
func workerProcesses(t *testing.T, arg string) []int {
	t.Helper()
	files, err := filepath.Glob("/proc/self/task/*/children")
	if err != nil || len(files) == 0 {
		t.Skip("needs Linux's /proc/PID/task/TID/children")
	}
	var pids []int
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, field := range strings.Fields(string(b)) {
			cmdline, err := os.ReadFile("/proc/" + field + "/cmdline")
			if err == nil && strings.HasSuffix(string(cmdline), "\x00"+arg+"\x00") {
				pid, _ := strconv.Atoi(field)
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// TestCloseDuringHashes closes the Hasher while hashes run: they must all come back right,
// and no worker may outlive Close.
func TestCloseDuringHashes(t *testing.T) {
	var log errorLog
	h := NewHasher(testParams, 2, time.Minute, WithWorkers([]string{os.Args[0], workerArg},
		log.add))
	ctx := context.Background()
	v := cliVectors[0]
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if _, err := h.Verify(ctx, v.encoded, v.password); err != nil {
					t.Errorf("Verify = %v", err)
					return
				}
			}
		})
	}
	if _, err := h.Verify(ctx, v.encoded, v.password); err != nil { // at least one worker
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	wg.Wait()
	if pids := workerProcesses(t, workerArg); len(pids) != 0 {
		t.Errorf("workers %v still running after Close", pids)
	}
	if n := log.count(); n != 0 {
		t.Errorf("worker errors %v; Close is not a failure", log.errs)
	}
}

// TestWorkerGetsNoSecrets sets a secret in this process's environment and reads a worker's.
func TestWorkerGetsNoSecrets(t *testing.T) {
	t.Setenv("CLIENTAREA_SECRET_KEY", "00112233445566778899aabbccddeeff")
	for _, name := range []string{"GOMAXPROCS", "GODEBUG", "GOTRACEBACK", "GORACE", "TMPDIR"} {
		if v, ok := os.LookupEnv(name); ok {
			t.Setenv(name, v) // restored afterwards
			os.Unsetenv(name)
		}
	}
	var log errorLog
	h := newWorkerHasher(t, workerArg, &log)
	v := cliVectors[0]
	if _, err := h.Verify(context.Background(), v.encoded, v.password); err != nil {
		t.Fatal(err)
	}
	environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", h.workers.idle[0].cmd.Process.Pid))
	if err != nil {
		t.Skip("needs Linux's /proc")
	}
	if len(environ) != 0 {
		t.Errorf("worker environment %q, want empty", environ)
	}
}

// TestCloseStopsWorkers checks that Close ends the worker processes and that hashing goes on
// in the process afterwards.
func TestCloseStopsWorkers(t *testing.T) {
	var log errorLog
	h := NewHasher(testParams, 2, time.Minute, WithWorkers([]string{os.Args[0], workerArg},
		log.add))
	ctx := context.Background()
	v := cliVectors[0]
	if _, err := h.Verify(ctx, v.encoded, v.password); err != nil {
		t.Fatalf("Verify = %v", err)
	}
	w := h.workers.idle[0]
	if err := h.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if w.cmd.ProcessState == nil {
		t.Error("the worker is still running after Close")
	}
	if _, err := h.Verify(ctx, v.encoded, v.password); err != nil {
		t.Errorf("Verify after Close = %v, want nil", err)
	}
	if n := log.count(); n != 0 {
		t.Errorf("worker errors after Close: %v", log.errs)
	}
}

// TestServeWorkerRefuses feeds the worker loop requests it must not carry out.
func TestServeWorkerRefuses(t *testing.T) {
	request := func(p Params, password, salt string) []byte {
		var b bytes.Buffer
		if err := writeRequest(&b, p, []byte(password), []byte(salt)); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	// ServeWorker sets the collector of the process it runs in; give this one its own back.
	gc, limit := debug.SetGCPercent(-1), debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(gc)
		debug.SetMemoryLimit(limit)
	})
	good := request(testParams, "pw", "saltsaltsaltsalt")
	huge := testParams
	huge.Memory = 1<<20 + 1 // above the 1 GiB ceiling
	tests := []struct {
		name    string
		in      []byte
		wantErr bool
	}{
		{"nothing", nil, false},
		{"one request", good, false},
		{"memory above the ceiling", request(huge, "pw", "saltsaltsaltsalt"), true},
		{"salt too short", request(testParams, "pw", "salt"), true},
		{"cut off in the password", good[:15], true},
		{"password frame too long", append(good[:13:13], 0xff, 0xff, 0xff, 0xff), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := ServeWorker(bytes.NewReader(tt.in), &out)
			if (err != nil) != tt.wantErr {
				t.Errorf("ServeWorker = %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr && out.Len() != 0 {
				t.Errorf("answered %d bytes to a refused request", out.Len())
			}
			if tt.name == "one request" {
				want := frame(derive(testParams, "pw", []byte("saltsaltsaltsalt")))
				if !bytes.Equal(out.Bytes(), want) {
					t.Errorf("answer %x, want %x", out.Bytes(), want)
				}
			}
		})
	}
}

// TestWorkerEnv checks that a worker gets the runtime's settings and none
// of the server's secrets.
func TestWorkerEnv(t *testing.T) {
	parent := []string{"CLIENTAREA_SECRET_KEY=00ff", "CLIENTAREA_DATABASE_URL=postgres://u:pw@db/x",
		"GOMAXPROCS=2", "GOGC=400", "PATH=/usr/bin", "GODEBUG=gctrace=1", "HOME=/root"}
	got := workerEnv(parent)
	want := []string{"GOMAXPROCS=2", "GODEBUG=gctrace=1"}
	if !slices.Equal(got, want) {
		t.Errorf("workerEnv = %q, want %q", got, want)
	}
	// An empty list, not nil: exec gives nil the parent's whole environment.
	if got := workerEnv([]string{"CLIENTAREA_SECRET_KEY=00ff"}); got == nil || len(got) != 0 {
		t.Errorf("workerEnv of secrets alone = %#v, want an empty list", got)
	}
}

// TestIdleWorkerGivesMemoryBack hashes with 16 MiB in a worker that releases its memory
// 10 ms after a hash, and waits until the worker's private memory is at least 12 MiB below
// its peak (peak resident memory less file-mapped pages; the race detector's shadow of the
// block stays, so an absolute figure would not do). A worker that kept its block would hold
// it for ever, and the test would fail at its bound.
func TestIdleWorkerGivesMemoryBack(t *testing.T) {
	p := Params{Memory: 16 << 10, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}
	var log errorLog
	h := NewHasher(p, 1, time.Minute, WithWorkers([]string{os.Args[0], quickReleaseWorkerArg},
		log.add))
	t.Cleanup(func() { h.Close() })
	if _, err := h.Hash(context.Background(), "pw"); err != nil {
		t.Fatal(err)
	}
	if n := log.count(); n != 0 || len(h.workers.idle) != 1 {
		t.Fatalf("worker errors %v, idle workers %d; want none and 1", log.errs,
			len(h.workers.idle))
	}
	pid := h.workers.idle[0].cmd.Process.Pid
	memory := func() (peakPrivate, private int64) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			t.Skip("needs Linux's /proc")
		}
		kb := map[string]int64{}
		for line := range strings.Lines(string(b)) {
			name, v, _ := strings.Cut(line, ":")
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err == nil {
				kb[name] = n << 10
			}
		}
		if kb["VmHWM"] == 0 || kb["RssAnon"] == 0 {
			t.Skip("no VmHWM or RssAnon in /proc/PID/status")
		}
		return kb["VmHWM"] - kb["RssFile"], kb["RssAnon"]
	}
	// Not a timing assertion: the release is due after 10 ms; a minute is only the point
	// at which a worker that never releases is declared one.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		peak, now := memory()
		if now <= peak-12<<20 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker's private memory %d bytes, peak %d, a minute after its hash",
				now, peak)
		}
	}
}

// TestFitProcessors: a worker runs with one processor per lane of the hash,
// never more than it started with.
func TestFitProcessors(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, tt := range []struct {
		lanes      uint8
		most, want int
	}{{1, 4, 1}, {3, 4, 3}, {8, 2, 2}, {0, 2, 1}} {
		fitProcessors(Params{Parallelism: tt.lanes}, tt.most)
		if got := runtime.GOMAXPROCS(0); got != tt.want {
			t.Errorf("%d lanes, at most %d: GOMAXPROCS %d, want %d", tt.lanes, tt.most, got, tt.want)
		}
	}
}
