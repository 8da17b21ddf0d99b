package password

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"
)

// The test binary doubles as the worker: started with one of these words as its only
// argument it serves, or fails, instead of running the tests.
const (
	workerArg       = "password-worker"
	brokenWorkerArg = "password-worker-that-exits"
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
		}
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

func newWorkerHasher(t *testing.T, arg string, log *errorLog) *Hasher {
	t.Helper()
	h := NewHasher(testParams, 2, time.Minute, WithWorkers([]string{os.Args[0], arg}, log.add))
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
// right, made in the process, and every failure reported.
func TestBrokenWorkerFallsBack(t *testing.T) {
	var log errorLog
	h := newWorkerHasher(t, brokenWorkerArg, &log)
	v := cliVectors[0]
	if _, err := h.Verify(context.Background(), v.encoded, v.password); err != nil {
		t.Errorf("Verify = %v, want nil", err)
	}
	if n := log.count(); n != 1 {
		t.Errorf("%d worker errors reported, want 1", n)
	}
}

// TestWorkerKilledBetweenHashes kills an idle worker: the next hash falls back and reports
// it, and the one after runs in a new worker.
func TestWorkerKilledBetweenHashes(t *testing.T) {
	var log errorLog
	h := newWorkerHasher(t, workerArg, &log)
	ctx := context.Background()
	v := cliVectors[0]
	if _, err := h.Verify(ctx, v.encoded, v.password); err != nil {
		t.Fatalf("Verify = %v", err)
	}
	w := h.workers.idle[0]
	if err := w.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill worker: %v", err)
	}
	w.cmd.Wait() // make sure it is gone before the next request

	if _, err := h.Verify(ctx, v.encoded, v.password); err != nil {
		t.Errorf("Verify after the worker died = %v, want nil", err)
	}
	if n := log.count(); n != 1 {
		t.Errorf("%d worker errors reported, want 1", n)
	}
	if _, err := h.Verify(ctx, v.encoded, v.password); err != nil {
		t.Errorf("Verify with a new worker = %v, want nil", err)
	}
	if n := len(h.workers.idle); n != 1 || h.workers.idle[0] == w {
		t.Errorf("idle workers %d (the dead one kept: %v), want one new one", n,
			n > 0 && h.workers.idle[0] == w)
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
}
