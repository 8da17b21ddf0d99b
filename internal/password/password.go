// Package password hashes and verifies account passwords with Argon2id.
//
// Hashes are stored as PHC strings, the format of the reference implementation:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// with salt and hash in unpadded standard Base64. Argon2id is memory-hard on purpose, so a
// burst of sign-ins could exhaust the server's memory; a Hasher therefore runs at most a fixed
// number of hashes at once and makes later callers wait for a slot, up to a limit.
package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
)

// ErrBusy is returned when no hashing slot became free within the Hasher's wait. The web
// layer answers it with 503 Service Unavailable.
var ErrBusy = errors.New("password: too many hashes in progress")

// ErrMismatch is returned by Verify when the password does not match the stored hash.
var ErrMismatch = errors.New("password: wrong password")

// ErrMalformed is wrapped by the errors Verify returns for a stored hash that is not a valid
// Argon2id PHC string, or whose parameters are outside the Hasher's accepted range.
var ErrMalformed = errors.New("password: malformed hash")

// b64 is the PHC Base64 flavour. Strict refuses encodings with non-zero trailing bits, so
// every hash has exactly one accepted spelling.
var b64 = base64.RawStdEncoding.Strict()

// Params are the Argon2id cost parameters and output sizes.
type Params struct {
	Memory      uint32 // KiB
	Iterations  uint32
	Parallelism uint8
	SaltLen     uint32 // bytes
	KeyLen      uint32 // bytes
}

// DefaultParams returns the OWASP minimum for Argon2id (19 MiB, 2 iterations, 1 lane) with a
// 16-byte salt and a 32-byte hash. One hash costs 19 MiB while it runs; size the Hasher's
// concurrency with that in mind.
func DefaultParams() Params {
	return Params{Memory: 19456, Iterations: 2, Parallelism: 1, SaltLen: 16, KeyLen: 32}
}

// Validate reports whether p satisfies the minimums of the Argon2 specification (RFC 9106):
// at least one iteration and one lane, 8 KiB of memory per lane, an 8-byte salt and a
// 4-byte hash.
func (p Params) Validate() error {
	switch {
	case p.Iterations < 1:
		return errors.New("password: params: iterations must be at least 1")
	case p.Parallelism < 1:
		return errors.New("password: params: parallelism must be at least 1")
	case p.Memory < 8*uint32(p.Parallelism):
		return errors.New("password: params: memory must be at least 8 KiB per lane")
	case p.SaltLen < 8:
		return errors.New("password: params: salt must be at least 8 bytes")
	case p.KeyLen < 4:
		return errors.New("password: params: key must be at least 4 bytes")
	}
	return nil
}

// below reports whether any parameter of p is lower than the same parameter of q.
func (p Params) below(q Params) bool {
	return p.Memory < q.Memory || p.Iterations < q.Iterations ||
		p.Parallelism < q.Parallelism || p.SaltLen < q.SaltLen || p.KeyLen < q.KeyLen
}

// exceeds reports whether a hash with p would cost more than limit allows: more memory,
// lanes, salt or hash than limit's, or more work, memory times iterations. Work, rather
// than iterations alone, is what a planted row could turn against the server; and it lets a
// server whose cost setting was raised and then rolled back still verify the hashes made
// meanwhile: 17 passes over 19 MiB are far below 16 over a gigabyte.
func (p Params) exceeds(limit Params) bool {
	return p.Memory > limit.Memory || p.Parallelism > limit.Parallelism ||
		p.SaltLen > limit.SaltLen || p.KeyLen > limit.KeyLen ||
		uint64(p.Memory)*uint64(p.Iterations) > uint64(limit.Memory)*uint64(limit.Iterations)
}

// Option configures a Hasher.
type Option func(*Hasher)

// WithQueueWait sets a function called after every attempt to get a hashing slot with the
// time the caller waited, including attempts that ended in ErrBusy or a cancelled context.
// Metrics use it to see how close the server runs to its hashing capacity.
func WithQueueWait(observe func(time.Duration)) Option {
	return func(h *Hasher) { h.queueWait = observe }
}

// WithRand sets the source of salts. The default is crypto/rand.Reader.
func WithRand(r io.Reader) Option {
	return func(h *Hasher) { h.rand = r }
}

// WithClock sets the clock used to measure queue waits. The default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(h *Hasher) { h.now = now }
}

// WithMaxParams sets the most a stored hash may cost for Verify to accept it: its memory,
// lanes, salt and hash sizes, and its work, memory times iterations (Params.exceeds). A
// stored hash asking for more is refused before any work, so a corrupted or planted row
// cannot make one sign-in allocate gigabytes or run for hours. The default is 1 GiB, the
// work of 16 iterations over it, 64 lanes, a 64-byte salt and a 128-byte hash, each raised
// to the Hasher's own parameter when that is higher.
func WithMaxParams(limit Params) Option {
	return func(h *Hasher) { h.max = limit }
}

// Hasher hashes and verifies passwords with fixed parameters and a bounded number of hashes
// running at once. A Hasher is safe for concurrent use.
type Hasher struct {
	params    Params
	invalid   error
	max       Params
	slots     chan struct{}
	wait      time.Duration
	rand      io.Reader
	now       func() time.Time
	queueWait func(time.Duration)
	workers   *workerPool
}

// NewHasher returns a Hasher that hashes with p and runs at most concurrent hashes at once
// (runtime.NumCPU() when concurrent <= 0). A caller waits at most wait for a slot, then gets
// ErrBusy; with wait <= 0 it gets ErrBusy at once when every slot is taken.
//
// If p is invalid every method returns the error of p.Validate, so configuration loading
// should call Validate itself to fail early.
func NewHasher(p Params, concurrent int, wait time.Duration, opts ...Option) *Hasher {
	if concurrent <= 0 {
		concurrent = runtime.NumCPU()
	}
	h := &Hasher{
		params:  p,
		invalid: p.Validate(),
		max:     defaultMax(p),
		slots:   make(chan struct{}, concurrent),
		wait:    wait,
		rand:    rand.Reader,
		now:     time.Now,
	}
	for _, opt := range opts {
		opt(h)
	}
	if h.workers != nil {
		h.workers.now = h.now
	}
	return h
}

func defaultMax(p Params) Params {
	return Params{
		Memory:      max(p.Memory, 1<<20),
		Iterations:  max(p.Iterations, 16),
		Parallelism: max(p.Parallelism, 64),
		SaltLen:     max(p.SaltLen, 64),
		KeyLen:      max(p.KeyLen, 128),
	}
}

// Hash returns the PHC string of password under a new random salt.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if h.invalid != nil {
		return "", h.invalid
	}
	salt := make([]byte, h.params.SaltLen)
	if _, err := io.ReadFull(h.rand, salt); err != nil {
		return "", fmt.Errorf("password: hash: read salt: %w", err)
	}

	release, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	key := h.derive(h.params, password, salt)
	release()

	return encode(h.params, salt, key), nil
}

// Verify checks password against the PHC string encoded. It returns ErrMismatch when the
// password is wrong, and an error wrapping ErrMalformed when encoded cannot be used. On a
// match, rehash reports whether encoded was made with weaker parameters than h's, so
// the caller should store a new Hash of the password it now knows.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (rehash bool, err error) {
	if h.invalid != nil {
		return false, h.invalid
	}
	// Decoding comes before taking a slot, so garbage costs no hashing capacity.
	p, salt, want, err := decode(encoded)
	if err != nil {
		return false, err
	}
	if p.exceeds(h.max) {
		return false, fmt.Errorf("%w: parameters above the maximum", ErrMalformed)
	}

	release, err := h.acquire(ctx)
	if err != nil {
		return false, err
	}
	got := h.derive(p, password, salt)
	release()

	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, ErrMismatch
	}
	return p.below(h.params), nil
}

// Dummy does the work of a Verify against a hash made with h's parameters and throws the
// result away. Sign-in calls it when the e-mail address is unknown, so that the answer takes
// as long as for a known address and its timing does not tell which addresses have accounts.
// It returns only ErrBusy, context errors and errors of invalid parameters.
func (h *Hasher) Dummy(ctx context.Context, password string) error {
	if h.invalid != nil {
		return h.invalid
	}
	// A zero salt is fine: the result is never stored or compared with anything secret.
	salt := make([]byte, h.params.SaltLen)
	want := make([]byte, h.params.KeyLen)

	release, err := h.acquire(ctx)
	if err != nil {
		return err
	}
	got := h.derive(h.params, password, salt)
	release()

	subtle.ConstantTimeCompare(got, want)
	return nil
}

// acquire takes a hashing slot and returns the function that gives it back.
func (h *Hasher) acquire(ctx context.Context) (release func(), err error) {
	start := h.now()
	defer func() {
		if h.queueWait != nil {
			h.queueWait(h.now().Sub(start))
		}
	}()
	release = func() { <-h.slots }

	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("password: wait for slot: %w", err)
	}
	// A free slot is always taken, even with a zero wait.
	select {
	case h.slots <- struct{}{}:
		return release, nil
	default:
	}
	if h.wait <= 0 {
		return nil, ErrBusy
	}

	timer := time.NewTimer(h.wait)
	defer timer.Stop()
	select {
	case h.slots <- struct{}{}:
		return release, nil
	case <-timer.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, fmt.Errorf("password: wait for slot: %w", ctx.Err())
	}
}

// derive hashes in a worker process if the Hasher has them, and here otherwise.
func (h *Hasher) derive(p Params, password string, salt []byte) []byte {
	if h.workers != nil {
		if key, ok := h.workers.derive(p, password, salt); ok {
			return key
		}
	}
	return derive(p, password, salt)
}

func derive(p Params, password string, salt []byte) []byte {
	return argon2.IDKey([]byte(password), salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLen)
}

func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		p.Memory, p.Iterations, p.Parallelism, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decode parses an Argon2id PHC string. Its errors wrap ErrMalformed and never quote the
// input, which holds the hash.
func decode(encoded string) (p Params, salt, key []byte, err error) {
	// The Base64 decoder skips line breaks; refusing them keeps one spelling per hash.
	if strings.ContainsAny(encoded, "\r\n") {
		return p, nil, nil, fmt.Errorf("%w: line break", ErrMalformed)
	}
	fields := strings.Split(encoded, "$")
	if len(fields) != 6 || fields[0] != "" {
		return p, nil, nil, fmt.Errorf("%w: not a PHC string", ErrMalformed)
	}
	if fields[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("%w: algorithm is not argon2id", ErrMalformed)
	}
	if fields[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, fmt.Errorf("%w: version is not 19", ErrMalformed)
	}
	if p, err = decodeParams(fields[3]); err != nil {
		return p, nil, nil, err
	}

	if salt, err = b64.DecodeString(fields[4]); err != nil {
		return p, nil, nil, fmt.Errorf("%w: salt is not base64", ErrMalformed)
	}
	if key, err = b64.DecodeString(fields[5]); err != nil {
		return p, nil, nil, fmt.Errorf("%w: hash is not base64", ErrMalformed)
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if p.Validate() != nil {
		return p, nil, nil, fmt.Errorf("%w: parameters below the Argon2 minimum", ErrMalformed)
	}
	return p, salt, key, nil
}

// decodeParams parses "m=<memory>,t=<iterations>,p=<parallelism>" in the order the reference
// implementation writes.
func decodeParams(s string) (Params, error) {
	var p Params
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return p, fmt.Errorf("%w: want parameters m, t and p", ErrMalformed)
	}
	m, errM := decodeUint(parts[0], "m=", 32)
	t, errT := decodeUint(parts[1], "t=", 32)
	l, errL := decodeUint(parts[2], "p=", 8)
	if err := errors.Join(errM, errT, errL); err != nil {
		return p, fmt.Errorf("%w: bad parameters", ErrMalformed)
	}
	p.Memory, p.Iterations, p.Parallelism = uint32(m), uint32(t), uint8(l)
	return p, nil
}

// decodeUint parses prefix followed by a decimal number without sign or leading zeros.
func decodeUint(s, prefix string, bits int) (uint64, error) {
	digits, ok := strings.CutPrefix(s, prefix)
	if !ok || digits == "" || digits[0] < '1' || digits[0] > '9' {
		return 0, ErrMalformed
	}
	return strconv.ParseUint(digits, 10, bits)
}
