package loadtest

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/clientarea/clientarea/internal/totp"
)

// Password is every load-test account's password, WrongPassword a wrong
// one. They share one precomputed hash, so they are no secret.
const (
	Password      = "load test password 1"
	WrongPassword = "load test password 2"
)

// Accounts names the accounts of one load test: account i's e-mail and
// TOTP secret follow from a seed, so neither the loader nor the load
// generator has to keep a million secrets.
type Accounts struct {
	seed []byte
	tag  string
}

// NewAccounts returns the accounts of seed. Their e-mails carry tag, so
// that the accounts of several runs can share a database.
func NewAccounts(seed []byte, tag string) Accounts {
	return Accounts{seed: seed, tag: tag}
}

// Email is account i's address, in the reserved .invalid domain.
func (a Accounts) Email(i int) string {
	return fmt.Sprintf("load-%s-%d@bench.invalid", a.tag, i)
}

// Secret is account i's 160-bit TOTP secret: HMAC-SHA1(seed, i).
func (a Accounts) Secret(i int) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(i))
	mac := hmac.New(sha1.New, a.seed)
	mac.Write(b[:])
	return mac.Sum(nil)
}

// Pool hands out accounts so that none is asked to accept two codes of
// one TOTP step: the server refuses the second as a replay, which a load
// test must not mistake for a failure. Reserve picks accounts in a fixed
// order that visits all of them before any again and strides across the
// table, as customers arriving at random would; Use then waits, when it
// must, for the account's next step. A Pool is safe for concurrent use.
type Pool struct {
	mu     sync.Mutex
	size   int
	stride int
	pos    int
	last   []int64 // last step each account was used in, plus one
	now    func() time.Time
	wait   func(ctx context.Context, d time.Duration) error
	waits  int
}

// NewPool returns a Pool over accounts [0, size). now is the clock; wait
// sleeps for d unless ctx ends first (Sleep in use).
func NewPool(size int, now func() time.Time,
	wait func(ctx context.Context, d time.Duration) error) *Pool {
	p := &Pool{now: now, wait: wait}
	p.Resize(size)
	return p
}

// Sleep waits for d or until ctx ends.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Resize makes accounts [0, size) available, after a load added some.
func (p *Pool) Resize(size int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if size > len(p.last) {
		p.last = append(p.last, make([]int64, size-len(p.last))...)
	}
	p.size, p.pos = size, 0
	p.stride = coprimeStride(size)
}

// coprimeStride returns a step that visits every index of [0, n) once
// per n steps, jumping far enough that neighbours are rarely on one page.
func coprimeStride(n int) int {
	s := 7919
	for n > 1 && gcd(s, n) != 1 {
		s += 2
	}
	return s
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// Reserve returns the next n accounts, passing over those used in the
// current step while others are left; with more than Size, some repeat.
func (p *Pool) Reserve(n int) []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.size == 0 {
		return nil
	}
	step := totp.Step(p.now())
	out := make([]int, n)
	for i := range out {
		for range p.size {
			if p.last[p.pos] <= step {
				break
			}
			p.advance()
		}
		out[i] = p.pos
		p.advance()
	}
	return out
}

func (p *Pool) advance() { p.pos = (p.pos + p.stride) % max(p.size, 1) }

// Use marks account i as used now and returns the time its code is to be
// computed for. If i was already used in the current step, it first
// waits for the next step, and returns how long it waited by the pool's
// clock; when ctx ends during a wait, the error and the wait so far.
func (p *Pool) Use(ctx context.Context, i int) (at time.Time, waited time.Duration, err error) {
	var start time.Time // of the first wait
	for {
		p.mu.Lock()
		now := p.now()
		if !start.IsZero() {
			waited = now.Sub(start)
		}
		step := totp.Step(now)
		if p.last[i] <= step {
			p.last[i] = step + 1
			p.mu.Unlock()
			return now, waited, nil
		}
		p.waits++
		p.mu.Unlock()
		if start.IsZero() {
			start = now
		}
		next := time.Unix((step+1)*int64(totp.Period/time.Second), 0)
		if err := p.wait(ctx, next.Sub(now)); err != nil {
			return time.Time{}, p.now().Sub(start), err
		}
	}
}

// Waits counts the times Use had to wait for a step.
func (p *Pool) Waits() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.waits
}
