package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/clientarea/clientarea/internal/auth"
)

// maxBatch bounds how many of Atomic's units share one SQLite commit, so
// that the last of a long queue does not wait for all the others.
const maxBatch = 32

var errClosed = errors.New("store: closed")

// batcher runs the units of work that Atomic is given on SQLite several to
// one transaction (group commit). On SQLite every write transaction runs
// alone anyway, and its commit, which writes each changed page to the WAL
// with its own system calls, costs about as much as the work before it;
// units that arrive while a commit is under way share the next one. Each
// unit runs inside a savepoint, so one that fails is rolled back alone,
// and the units of a batch run one after another on one connection: each
// sees what the units before it did, exactly as if each were its own
// transaction. A unit's caller hears of it only after the commit, so what
// it was told is on disk.
type batcher struct {
	s       *Store
	jobs    chan *job
	quit    chan struct{}
	closing sync.Once
	done    sync.WaitGroup
}

type job struct {
	fn       func(auth.Store) error
	err      error
	panicked any
	done     chan struct{}
}

func newBatcher(s *Store) *batcher {
	b := &batcher{s: s, jobs: make(chan *job), quit: make(chan struct{})}
	b.done.Go(b.loop)
	return b
}

// do runs fn in the next batch and returns when that batch has committed
// or failed. fn runs on the batcher's goroutine; a panic in it is carried
// back to the caller's. Once fn runs, cancelling ctx no longer reaches its
// statements (see uncancellable).
func (b *batcher) do(ctx context.Context, fn func(auth.Store) error) error {
	j := &job{fn: fn, done: make(chan struct{})}
	select {
	case b.jobs <- j:
	case <-b.quit:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	<-j.done
	if j.panicked != nil {
		panic(j.panicked)
	}
	return j.err
}

func (b *batcher) close() {
	b.closing.Do(func() { close(b.quit) })
	b.done.Wait()
}

func (b *batcher) loop() {
	last := 1 // the size of the batch before
	for {
		var batch []*job
		select {
		case j := <-b.jobs:
			batch = append(batch, j)
		case <-b.quit:
			return
		}
		batch = b.waiting(batch)
		// When fewer have come than last time, other callers may be on
		// their way, runnable but queued behind those the last commit
		// woke; yielding once lets them reach the queue and share this
		// commit. With one caller at a time, or a queue already as long as
		// before, a yield would only delay the commit. Alternated runs are
		// in docs/benchmarks.md.
		if len(batch) < last {
			runtime.Gosched()
			batch = b.waiting(batch)
		}
		last = len(batch)
		b.run(batch)
	}
}

// waiting adds to batch whoever is waiting now, without waiting for more.
func (b *batcher) waiting(batch []*job) []*job {
	for len(batch) < maxBatch {
		select {
		case j := <-b.jobs:
			batch = append(batch, j)
		default:
			return batch
		}
	}
	return batch
}

func (b *batcher) run(batch []*job) {
	ctx := context.Background()
	err := b.s.tryTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		in := *b.s
		q := uncancellable{tx}
		in.read, in.write, in.txn, in.batched = q, q, tx, true
		for _, j := range batch {
			if _, err := tx.ExecContext(ctx, "SAVEPOINT unit"); err != nil {
				return err
			}
			j.panicked, j.err = call(j.fn, &in)
			if j.err != nil || j.panicked != nil {
				if _, err := tx.ExecContext(ctx, "ROLLBACK TO unit"); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, "RELEASE unit"); err != nil {
				return err
			}
		}
		return nil
	})
	for _, j := range batch {
		if err != nil && j.err == nil && j.panicked == nil {
			j.err = fmt.Errorf("store: batch: %w", err)
		}
		close(j.done)
	}
}

func call(fn func(auth.Store) error, s *Store) (panicked any, err error) {
	defer func() { panicked = recover() }()
	return nil, fn(s)
}

// uncancellable runs a unit's statements without its context's
// cancellation. The SQLite driver answers a cancelled context by
// interrupting the statement, and SQLite answers an interrupted write by
// rolling back the whole transaction: every other unit of the batch with
// it, after which the unit's further statements would each commit on
// their own. Statements are bounded instead by SQLite's busy timeout.
type uncancellable struct{ tx *sql.Tx }

func (u uncancellable) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return u.tx.ExecContext(context.WithoutCancel(ctx), query, args...)
}

func (u uncancellable) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return u.tx.QueryContext(context.WithoutCancel(ctx), query, args...)
}

func (u uncancellable) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return u.tx.QueryRowContext(context.WithoutCancel(ctx), query, args...)
}
