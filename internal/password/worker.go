package password

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// Hashing in worker processes.
//
// A hash runs for tens of milliseconds of pure computation. Inside the server's own Go
// runtime it holds one of the runtime's processors all that time, and with one hash per core
// every processor is taken: any other request, a health check included, waits until the
// runtime preempts a hash, which it does every 10 ms, and each hash leaves 19 MiB of garbage
// for the server's collector, which then runs dozens of times a second and scans every
// waiting request. In a child process the hash is the kernel's to schedule: the server's
// processors are free while it runs, a request that arrives is served within the kernel's
// wake-up latency, and the garbage stays in the child, whose heap holds nothing else.
// docs/benchmarks.md has the measurements.
//
// A worker is a child that runs ServeWorker on its standard input and output. It hashes one
// request at a time; the Hasher's slots bound how many run at once, so there are never more
// workers than slots. A worker that fails is stopped and the hash runs in this process
// instead, so a broken worker costs speed, never a sign-in.

// maxWorkerInput is the longest password or salt a worker accepts, so that a corrupted
// stream cannot make it allocate without bound: as long as the web layer's whole request
// body, and far above the passwords it lets through. The server hashes a longer one itself
// rather than have the worker refuse it.
const maxWorkerInput = 1 << 16

// workerLimit is the highest parameters a worker accepts: WithMaxParams' defaults.
var workerLimit = defaultMax(Params{})

const (
	// workerTimeout is the longest a worker may take over one hash before it is killed and
	// the hash made in the server: a safety net for a worker that hangs, far above the
	// seconds that even a gigabyte of argon2id memory takes.
	workerTimeout = time.Minute
	// After a worker fails, none is tried for minBackoff, doubling with every failure in a
	// row up to maxBackoff, so that a broken worker binary costs a process start and a log
	// line a minute, not one per sign-in.
	minBackoff, maxBackoff = time.Second, time.Minute
)

// WithWorkers makes the Hasher run hashes in child processes started with command (the
// program and its arguments), which must run ServeWorker on their standard input and output.
// Children start when first needed and stop with Close. onError, if set, is told of every
// worker that failed; the hash is then made in this process.
func WithWorkers(command []string, onError func(error)) Option {
	return func(h *Hasher) {
		h.workers = &workerPool{command: command, onError: onError, timeout: workerTimeout,
			busy: map[*worker]struct{}{}}
	}
}

// Close stops the worker processes, if the Hasher has any, busy ones included, and waits for
// them to exit. A hash that a stopped worker was making, and every hash after Close, is made
// in this process.
func (h *Hasher) Close() error {
	if h.workers == nil {
		return nil
	}
	return h.workers.close()
}

type workerPool struct {
	command []string
	onError func(error)
	now     func() time.Time
	timeout time.Duration

	mu      sync.Mutex
	idle    []*worker
	busy    map[*worker]struct{}
	closed  bool
	retryAt time.Time     // no worker is tried before this, after a failure
	backoff time.Duration // the last wait; zero after a success
}

type worker struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
	once sync.Once
	err  error // of stop
}

// FitsWorker reports whether a worker hashes with p. Parameters above its limits (those of
// WithMaxParams' defaults) are hashed in the calling process instead.
func (p Params) FitsWorker() bool { return !p.exceeds(workerLimit) }

// derive runs one hash in a worker; ok is false when none could, and the caller must hash
// itself.
func (wp *workerPool) derive(p Params, password string, salt []byte) (key []byte, ok bool) {
	if p.exceeds(workerLimit) || len(password) > maxWorkerInput || len(salt) > maxWorkerInput {
		return nil, false // the worker would refuse it
	}
	w, err := wp.take()
	if w == nil && err == nil {
		return nil, false // closed, or waiting after a failure
	}
	if err == nil {
		key, err = w.derive(p, password, salt, wp.timeout)
	}
	if err != nil {
		if w != nil {
			wp.drop(w)
		}
		wp.failed(err)
		return nil, false
	}
	wp.put(w)
	return key, true
}

// take returns an idle worker or starts one; nil and no error when the pool is closed or
// waiting after a failure.
func (wp *workerPool) take() (*worker, error) {
	wp.mu.Lock()
	if wp.closed || wp.now().Before(wp.retryAt) {
		wp.mu.Unlock()
		return nil, nil
	}
	if n := len(wp.idle); n > 0 {
		w := wp.idle[n-1]
		wp.idle = wp.idle[:n-1]
		wp.busy[w] = struct{}{}
		wp.mu.Unlock()
		return w, nil
	}
	wp.mu.Unlock()

	w, err := startWorker(wp.command)
	if err != nil {
		return nil, err
	}
	wp.mu.Lock()
	closed := wp.closed
	if !closed {
		wp.busy[w] = struct{}{}
	}
	wp.mu.Unlock()
	if closed {
		w.stop()
		return nil, nil
	}
	return w, nil
}

// put gives back a worker that answered. Close empties busy, so a worker
// not found there was stopped meanwhile, or is to be.
func (wp *workerPool) put(w *worker) {
	wp.mu.Lock()
	_, mine := wp.busy[w]
	delete(wp.busy, w)
	if mine {
		wp.idle = append(wp.idle, w)
		wp.backoff = 0
		wp.mu.Unlock()
		return
	}
	wp.mu.Unlock()
	w.stop() // Close came first
}

// drop stops a worker that failed.
func (wp *workerPool) drop(w *worker) {
	wp.mu.Lock()
	delete(wp.busy, w)
	wp.mu.Unlock()
	w.stop()
}

// failed reports a worker's failure and starts or lengthens the wait before the next try.
// Failures caused by Close are not reported.
func (wp *workerPool) failed(err error) {
	wp.mu.Lock()
	if wp.closed {
		wp.mu.Unlock()
		return
	}
	wp.backoff = min(max(2*wp.backoff, minBackoff), maxBackoff)
	wp.retryAt = wp.now().Add(wp.backoff)
	wp.mu.Unlock()
	if wp.onError != nil {
		wp.onError(err)
	}
}

func (wp *workerPool) close() error {
	wp.mu.Lock()
	all := wp.idle
	for w := range wp.busy {
		all = append(all, w)
	}
	wp.idle, wp.busy, wp.closed = nil, map[*worker]struct{}{}, true
	wp.mu.Unlock()
	var errs []error
	for _, w := range all {
		errs = append(errs, w.stop())
	}
	return errors.Join(errs...)
}

func startWorker(command []string) (*worker, error) {
	if len(command) == 0 {
		return nil, errors.New("password: no worker command")
	}
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Env = workerEnv(os.Environ())
	cmd.Stderr = os.Stderr // a worker's last words, if any, go to the server's log
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("password: start worker: %w", err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		in.Close()
		return nil, fmt.Errorf("password: start worker: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("password: start worker: %w", err)
	}
	return &worker{cmd: cmd, in: in, out: bufio.NewReader(out)}, nil
}

// workerEnv is the environment of a worker: the Go runtime's settings that concern it, and
// nothing else. The server's environment may hold the sealing key and the database's and the
// mail server's passwords, which a worker does not need. This keeps them out of the worker's
// own environment, not out of its reach: it runs as the same user as the server. GOGC and
// GOMEMLIMIT are left out too, since the worker sets its own collector (holdOneBlock). The
// list is never nil: exec gives a nil environment the parent's whole one.
func workerEnv(parent []string) []string {
	env := []string{}
	for _, kv := range parent {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "GOMAXPROCS", "GODEBUG", "GOTRACEBACK", "GORACE", "TMPDIR":
			env = append(env, kv)
		}
	}
	return env
}

// stop ends the worker once, however many callers ask. Its input is closed, on which a
// worker exits once it has answered the hash in hand, if any; one that has not exited within
// a second, hung or dead-locked, is killed.
func (w *worker) stop() error {
	w.once.Do(func() {
		w.in.Close()
		done := make(chan error, 1)
		go func() { done <- w.cmd.Wait() }()
		select {
		case w.err = <-done:
		case <-time.After(time.Second):
			w.cmd.Process.Kill()
			var exit *exec.ExitError
			if w.err = <-done; errors.As(w.err, &exit) {
				w.err = nil // killed, as intended
			}
		}
	})
	return w.err
}

// derive sends one request and reads the hash, killing the worker if it has not answered
// within timeout.
func (w *worker) derive(p Params, password string, salt []byte, timeout time.Duration) (
	[]byte, error) {
	timer := time.AfterFunc(timeout, func() { w.cmd.Process.Kill() })
	defer timer.Stop()
	if err := writeRequest(w.in, p, []byte(password), salt); err != nil {
		return nil, fmt.Errorf("password: worker: send: %w", err)
	}
	key, err := readFrame(w.out, int(p.KeyLen))
	if err != nil {
		if !timer.Stop() {
			return nil, fmt.Errorf("password: worker: no answer within %v", timeout)
		}
		return nil, fmt.Errorf("password: worker: receive: %w", err)
	}
	if len(key) != int(p.KeyLen) {
		return nil, fmt.Errorf("password: worker: hash of %d bytes, want %d", len(key), p.KeyLen)
	}
	return key, nil
}

// The protocol: a request is iterations, memory and hash length as big-endian uint32s,
// lanes as one byte, then the password and the salt as frames (a uint32 length and the
// bytes); the answer is the hash as a frame. Passwords cross only this pipe, between two
// processes of the same user.

func writeRequest(w io.Writer, p Params, password, salt []byte) error {
	var head [13]byte
	binary.BigEndian.PutUint32(head[0:], p.Iterations)
	binary.BigEndian.PutUint32(head[4:], p.Memory)
	binary.BigEndian.PutUint32(head[8:], p.KeyLen)
	head[12] = p.Parallelism
	b := append(head[:], frame(password)...)
	_, err := w.Write(append(b, frame(salt)...))
	return err
}

func frame(b []byte) []byte {
	out := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(b)), uint32(len(b)))
	return append(out, b...)
}

func readFrame(r io.Reader, limit int) ([]byte, error) {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	size := binary.BigEndian.Uint32(n[:])
	if size > uint32(limit) {
		return nil, fmt.Errorf("frame of %d bytes, limit %d", size, limit)
	}
	b := make([]byte, size)
	_, err := io.ReadFull(r, b)
	return b, err
}

// ServeWorker answers hash requests from r on w until r ends, which is how the parent stops
// it. It refuses, by returning an error, a request outside the limits of Params.Validate and
// of WithMaxParams' defaults, so that a worker fed garbage exits instead of allocating it.
//
// ServeWorker is meant to be the whole of a worker process: it sets the process's garbage
// collector (see holdOneBlock).
func ServeWorker(r io.Reader, w io.Writer) error {
	debug.SetGCPercent(-1)
	procs := runtime.GOMAXPROCS(0)
	in, out := bufio.NewReader(r), bufio.NewWriter(w)
	// A worker keeps its block between hashes, for speed; once no hash has come for a while
	// it gives the memory back, so that idle workers after a burst of sign-ins cost next to
	// nothing (one per core, on a big machine, would otherwise hold gigabytes).
	release := time.AfterFunc(idleRelease, debug.FreeOSMemory)
	defer release.Stop()
	for {
		if _, err := in.Peek(1); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("password: worker: read request: %w", err)
		}
		release.Stop()
		var head [13]byte
		if _, err := io.ReadFull(in, head[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("password: worker: read request: %w", err)
		}
		p := Params{Iterations: binary.BigEndian.Uint32(head[0:]),
			Memory: binary.BigEndian.Uint32(head[4:]), KeyLen: binary.BigEndian.Uint32(head[8:]),
			Parallelism: head[12]}
		password, err := readFrame(in, maxWorkerInput)
		if err != nil {
			return fmt.Errorf("password: worker: read password: %w", err)
		}
		salt, err := readFrame(in, maxWorkerInput)
		if err != nil {
			return fmt.Errorf("password: worker: read salt: %w", err)
		}
		p.SaltLen = uint32(len(salt))
		if err := p.Validate(); err != nil || p.exceeds(workerLimit) {
			return errors.New("password: worker: request outside the limits")
		}
		holdOneBlock(p)
		fitProcessors(p, procs)
		if _, err := out.Write(frame(derive(p, string(password), salt))); err != nil {
			return err
		}
		if err := out.Flush(); err != nil {
			return err
		}
		release.Reset(idleRelease)
	}
}

// fitProcessors gives the worker's runtime one processor for each lane of p, up to most (the
// processors it started with), and no more. While a worker hashes, the lanes' goroutines are
// all it runs. With a processor to spare, the runtime moved the hashing goroutine from thread
// to thread at every preemption and ran its collector beside it, on the core the other
// worker was hashing on: with two workers on two cores, one hash of the default parameters
// cost 24 ms of CPU with two processors each and 19.6 ms with one (docs/benchmarks.md).
func fitProcessors(p Params, most int) {
	n := max(1, min(int(p.Parallelism), most))
	if runtime.GOMAXPROCS(0) != n {
		runtime.GOMAXPROCS(n)
	}
}

// idleRelease is how long a worker waits for the next hash before it gives its memory back.
// A variable for the tests.
var idleRelease = 10 * time.Second

// holdOneBlock readies the worker's memory for a hash of p: it collects the previous hash's
// block, now garbage, so that this hash reuses it, and keeps the runtime from giving it back
// to the kernel in between.
//
// With the collector's defaults a worker held two blocks (38 MiB at the default parameters):
// the previous one is still uncollected when the next is allocated. Collecting by hand before
// every hash, with nothing else live, costs well under a millisecond, but at the default
// target the runtime then returned the freed block to the kernel, and the next hash spent
// its first milliseconds on page faults while the kernel zeroed it again: sign-in was 8%
// slower. With the target off, the runtime keeps memory up to the soft limit, which is set
// to two blocks and some room: never reached, since at most one block is live.
func holdOneBlock(p Params) {
	limit := 2*int64(p.Memory)<<10 + 16<<20
	if debug.SetMemoryLimit(-1) != limit {
		debug.SetMemoryLimit(limit)
	}
	runtime.GC()
}
