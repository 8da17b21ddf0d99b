package password

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testParams are far below production cost so the tests stay fast.
var testParams = Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}

func newTestHasher(t *testing.T, p Params, opts ...Option) *Hasher {
	t.Helper()
	if err := p.Validate(); err != nil {
		t.Fatalf("test params: %v", err)
	}
	return NewHasher(p, 2, time.Second, opts...)
}

// cliVectors were produced by the reference implementation's command-line tool (Debian
// package argon2), e.g. `echo -n pässwörd | argon2 saltsalt16bytes! -id -t 2 -k 100 -p 3
// -l 32 -e`. They fix the encoding and the parameter handling, including memory that is not
// a multiple of 4 lanes.
var cliVectors = []struct {
	name, password, encoded string
}{
	{
		"m64 t1 p1",
		"pässwörd",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQxNmJ5dGVzIQ" +
			"$M8oxjPaxhZOisyJyO7b3t70GnlVPxkeJnZLDEFti39E",
	},
	{
		"m100 t2 p3",
		"pässwörd",
		"$argon2id$v=19$m=100,t=2,p=3$c2FsdHNhbHQxNmJ5dGVzIQ" +
			"$5hlZ+BTPrP25YEmU6SAyGMZeM3JrC7dXzJHNM9xY9X4",
	},
	{
		"m256 t3 p2 16-byte hash",
		"pässwörd",
		"$argon2id$v=19$m=256,t=3,p=2$c2FsdHNhbHQxNmJ5dGVzIQ$eCkfcBO3CxQGqXOUeLmq3A",
	},
	{
		"m19456 t2 p1 OWASP",
		"correct horse",
		"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA" +
			"$AdweBLwcflnNX2HVW8i1Mtu7frrn4Ki7h/rYSGuU7Is",
	},
}

func TestVerifyReferenceVectors(t *testing.T) {
	h := NewHasher(Params{Memory: 8, Iterations: 1, Parallelism: 1, SaltLen: 8, KeyLen: 4}, 2, 0)
	for _, v := range cliVectors {
		t.Run(v.name, func(t *testing.T) {
			if _, err := h.Verify(context.Background(), v.encoded, v.password); err != nil {
				t.Errorf("Verify(right password) = %v, want nil", err)
			}
			_, err := h.Verify(context.Background(), v.encoded, v.password+"x")
			if !errors.Is(err, ErrMismatch) {
				t.Errorf("Verify(wrong password) = %v, want ErrMismatch", err)
			}
		})
	}
}

// TestVerifyArgon2CLI checks Verify against hashes the reference tool computes now, with a
// salt and password unknown to the recorded vectors.
func TestVerifyArgon2CLI(t *testing.T) {
	bin, err := exec.LookPath("argon2")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("argon2 command missing; install the Debian package argon2")
		}
		t.Skip("argon2 command missing; install the Debian package argon2")
	}
	h := newTestHasher(t, testParams)
	tests := []struct {
		password string
		m, t, p  int
	}{
		{"password", 64, 1, 1},
		{"hunter2 with spaces", 97, 2, 2},
		{" ", 32, 1, 4},
	}
	for _, tc := range tests {
		t.Run(strconv.Itoa(tc.m), func(t *testing.T) {
			cmd := exec.Command(bin, "clientarea-salt", "-id", "-e", "-l", "32",
				"-t", strconv.Itoa(tc.t), "-k", strconv.Itoa(tc.m), "-p", strconv.Itoa(tc.p))
			cmd.Stdin = strings.NewReader(tc.password)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("argon2: %v", err)
			}
			encoded := string(bytes.TrimSpace(out))

			if _, err := h.Verify(context.Background(), encoded, tc.password); err != nil {
				t.Errorf("Verify(%s, right password) = %v, want nil", encoded, err)
			}
			_, err = h.Verify(context.Background(), encoded, tc.password+"!")
			if !errors.Is(err, ErrMismatch) {
				t.Errorf("Verify(%s, wrong password) = %v, want ErrMismatch", encoded, err)
			}
		})
	}
}

func TestDefaultParamsMeetOWASPMinimum(t *testing.T) {
	p := DefaultParams()
	if p.Memory < 19456 || p.Iterations < 2 || p.Parallelism < 1 {
		t.Errorf("DefaultParams() = %+v, want m >= 19456, t >= 2, p >= 1", p)
	}
	if p.SaltLen < 16 || p.KeyLen < 32 {
		t.Errorf("DefaultParams() = %+v, want salt >= 16, key >= 32", p)
	}
	if err := p.Validate(); err != nil {
		t.Errorf("DefaultParams().Validate() = %v, want nil", err)
	}
}

func TestHashFormat(t *testing.T) {
	salt := bytes.Repeat([]byte{0xfb}, 16)
	h := newTestHasher(t, testParams, WithRand(bytes.NewReader(salt)))
	got, err := h.Hash(context.Background(), "secret")
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	// Salt 0xfb x 16 in unpadded standard Base64, computed by hand: "+/v7" repeats.
	wantPrefix := "$argon2id$v=19$m=64,t=1,p=1$+/v7+/v7+/v7+/v7+/v7+w$"
	if !strings.HasPrefix(got, wantPrefix) {
		t.Errorf("Hash() = %q, want prefix %q", got, wantPrefix)
	}
	if strings.Contains(got, "=$") || strings.HasSuffix(got, "=") {
		t.Errorf("Hash() = %q, want no Base64 padding", got)
	}
	if _, err := h.Verify(context.Background(), got, "secret"); err != nil {
		t.Errorf("Verify(Hash(secret), secret) = %v, want nil", err)
	}
}

func TestHashUsesFreshSalt(t *testing.T) {
	h := newTestHasher(t, testParams)
	a, errA := h.Hash(context.Background(), "same")
	b, errB := h.Hash(context.Background(), "same")
	if errA != nil || errB != nil {
		t.Fatalf("Hash: %v, %v", errA, errB)
	}
	if a == b {
		t.Errorf("two hashes of one password are equal (%q), want different salts", a)
	}
}

func TestNeedsRehash(t *testing.T) {
	stored := cliVectors[0] // m=64, t=1, p=1, 16-byte salt, 32-byte hash
	tests := []struct {
		name string
		p    Params
		want bool
	}{
		{"same params", testParams, false},
		{"stored params higher", Params{Memory: 32, Iterations: 1, Parallelism: 1,
			SaltLen: 8, KeyLen: 16}, false},
		{"more memory", Params{Memory: 128, Iterations: 1, Parallelism: 1,
			SaltLen: 16, KeyLen: 32}, true},
		{"more iterations", Params{Memory: 64, Iterations: 2, Parallelism: 1,
			SaltLen: 16, KeyLen: 32}, true},
		{"more lanes", Params{Memory: 64, Iterations: 1, Parallelism: 2,
			SaltLen: 16, KeyLen: 32}, true},
		{"longer salt", Params{Memory: 64, Iterations: 1, Parallelism: 1,
			SaltLen: 32, KeyLen: 32}, true},
		{"longer key", Params{Memory: 64, Iterations: 1, Parallelism: 1,
			SaltLen: 16, KeyLen: 64}, true},
		{"production defaults", DefaultParams(), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHasher(tc.p, 1, time.Second)
			got, err := h.Verify(context.Background(), stored.encoded, stored.password)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got != tc.want {
				t.Errorf("needsRehash = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestVerifyMalformed(t *testing.T) {
	valid := cliVectors[0].encoded
	tests := []struct {
		name, encoded string
	}{
		{"empty", ""},
		{"dollar only", "$"},
		{"argon2i", strings.Replace(valid, "argon2id", "argon2i", 1)},
		{"bcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"version 16", strings.Replace(valid, "v=19", "v=16", 1)},
		{"no version", strings.Replace(valid, "$v=19", "", 1)},
		{"params reordered", strings.Replace(valid, "m=64,t=1", "t=1,m=64", 1)},
		{"leading zero", strings.Replace(valid, "m=64", "m=064", 1)},
		{"sign", strings.Replace(valid, "m=64", "m=+64", 1)},
		{"memory overflow", strings.Replace(valid, "m=64", "m=4294967296", 1)},
		{"lanes overflow", strings.Replace(valid, "p=1", "p=256", 1)},
		{"zero iterations", strings.Replace(valid, "t=1", "t=0", 1)},
		{"zero lanes", strings.Replace(valid, "p=1", "p=0", 1)},
		{"memory below 8 per lane", strings.Replace(valid, "m=64,t=1,p=1", "m=15,t=1,p=2", 1)},
		{"extra parameter", strings.Replace(valid, "p=1", "p=1,k=2", 1)},
		{"padded salt", strings.Replace(valid, "IQ$", "IQ==$", 1)},
		{"salt not base64", strings.Replace(valid, "c2Fsd", "c2F*d", 1)},
		{"salt non-canonical", strings.Replace(valid, "IQ$", "IR$", 1)},
		{"short salt", strings.Replace(valid, "c2FsdHNhbHQxNmJ5dGVzIQ", "c2FsdA", 1)},
		{"short hash", valid[:strings.LastIndex(valid, "$")+1] + "AAAA"},
		{"empty hash", valid[:strings.LastIndex(valid, "$")+1]},
		{"trailing field", valid + "$"},
		{"newline in base64", strings.Replace(valid, "c2Fsd", "c2F\nsd", 1)},
		{"carriage return in base64", strings.Replace(valid, "c2Fsd", "c2F\rsd", 1)},
		{"memory above maximum", strings.Replace(valid, "m=64", "m=4294967295", 1)},
		{"iterations above maximum", strings.Replace(valid, "t=1", "t=4294967295", 1)},
	}
	h := newTestHasher(t, testParams)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.Verify(context.Background(), tc.encoded, cliVectors[0].password)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Verify = %v, want ErrMalformed", err)
			}
			if tc.encoded != "" && strings.Contains(err.Error(), tc.encoded) {
				t.Errorf("error %q quotes the stored hash", err)
			}
		})
	}
}

func TestInvalidParams(t *testing.T) {
	h := NewHasher(Params{Memory: 64, Iterations: 0, Parallelism: 1, SaltLen: 16, KeyLen: 32},
		1, 0)
	ctx := context.Background()
	if _, err := h.Hash(ctx, "x"); err == nil {
		t.Error("Hash with zero iterations: got nil error")
	}
	if _, err := h.Verify(ctx, cliVectors[0].encoded, "x"); err == nil {
		t.Error("Verify with zero iterations: got nil error")
	}
	if err := h.Dummy(ctx, "x"); err == nil {
		t.Error("Dummy with zero iterations: got nil error")
	}
}

// TestVerifyAfterCostRolledBack verifies a hash made with 17 iterations, more than the
// default ceiling's 16, on a Hasher set back to one: an operator who raised the cost and
// rolled it back must not lock out the customers who signed in meanwhile.
func TestVerifyAfterCostRolledBack(t *testing.T) {
	raised := testParams
	raised.Iterations = 17
	encoded, err := NewHasher(raised, 1, time.Minute).Hash(context.Background(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	rehash, err := newTestHasher(t, testParams).Verify(context.Background(), encoded, "pw")
	if err != nil || rehash {
		t.Errorf("Verify = %v, rehash %v; want nil, false", err, rehash)
	}
}

func TestDummy(t *testing.T) {
	h := newTestHasher(t, testParams)
	if err := h.Dummy(context.Background(), "anything"); err != nil {
		t.Errorf("Dummy = %v, want nil", err)
	}
}

// TestBusy holds the only slot, so every call must give up after its wait. It asserts on
// outcomes only, never on elapsed time.
func TestBusy(t *testing.T) {
	var waits []time.Duration
	observe := func(d time.Duration) { waits = append(waits, d) }
	for _, wait := range []time.Duration{0, time.Millisecond} {
		t.Run(wait.String(), func(t *testing.T) {
			waits = nil
			h := NewHasher(testParams, 1, wait, WithQueueWait(observe))
			release, err := h.acquire(context.Background())
			if err != nil {
				t.Fatalf("acquire: %v", err)
			}
			ctx := context.Background()

			if _, err := h.Hash(ctx, "x"); !errors.Is(err, ErrBusy) {
				t.Errorf("Hash = %v, want ErrBusy", err)
			}
			if _, err := h.Verify(ctx, cliVectors[0].encoded, "x"); !errors.Is(err, ErrBusy) {
				t.Errorf("Verify = %v, want ErrBusy", err)
			}
			if err := h.Dummy(ctx, "x"); !errors.Is(err, ErrBusy) {
				t.Errorf("Dummy = %v, want ErrBusy", err)
			}

			release()
			if _, err := h.Hash(ctx, "x"); err != nil {
				t.Errorf("Hash after release = %v, want nil", err)
			}
			if got, want := len(waits), 5; got != want {
				t.Errorf("queue wait observed %d times, want %d", got, want)
			}
		})
	}
}

func TestCancelledWhileWaiting(t *testing.T) {
	h := NewHasher(testParams, 1, time.Hour)
	release, err := h.acquire(context.Background())
	if err != nil {
		t.Fatalf("acquire: %v", err)
	}
	defer release()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := h.Hash(ctx, "x")
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Hash = %v, want context.Canceled", err)
	}
}

// TestWaitsForSlot checks that a waiting caller gets the slot once it is given back.
func TestWaitsForSlot(t *testing.T) {
	h := NewHasher(testParams, 1, time.Hour)
	release, err := h.acquire(context.Background())
	if err != nil {
		t.Fatalf("acquire: %v", err)
	}
	done := make(chan error)
	go func() {
		_, err := h.Hash(context.Background(), "x")
		done <- err
	}()
	release()
	if err := <-done; err != nil {
		t.Errorf("Hash = %v, want nil", err)
	}
}

func TestQueueWaitUsesClock(t *testing.T) {
	base := time.Unix(1700000000, 0)
	ticks := []time.Time{base, base.Add(3 * time.Second)}
	now := func() time.Time {
		next := ticks[0]
		ticks = ticks[1:]
		return next
	}
	var got []time.Duration
	h := NewHasher(testParams, 1, 0, WithClock(now),
		WithQueueWait(func(d time.Duration) { got = append(got, d) }))
	if _, err := h.Hash(context.Background(), "x"); err != nil {
		t.Fatalf("Hash: %v", err)
	}
	if len(got) != 1 || got[0] != 3*time.Second {
		t.Errorf("queue waits = %v, want [3s]", got)
	}
}

func BenchmarkHashDefault(b *testing.B) {
	h := NewHasher(DefaultParams(), 1, time.Minute)
	ctx := context.Background()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHashDefaultWorker is BenchmarkHashDefault with the hash made in a
// worker process, as the server makes it: the difference is the pipe and the
// worker's own memory handling.
func BenchmarkHashDefaultWorker(b *testing.B) {
	h := NewHasher(DefaultParams(), 1, time.Minute,
		WithWorkers([]string{os.Args[0], workerArg}, func(err error) { b.Error(err) }))
	defer h.Close()
	ctx := context.Background()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWorkersSmallBlocks hashes the production parameters' number of
// block operations in an eighth of the memory (2,432 KiB, t=16 against
// 19,456 KiB, t=2), in one worker and then in one per core. Beside
// BenchmarkHashDefaultWorker and BenchmarkHashDefaultWorkers it shows
// whether hashes at once slow each other through memory: blocks this small
// stay in the cores' caches, 19 MiB ones do not.
func BenchmarkWorkersSmallBlocks(b *testing.B) {
	p := DefaultParams()
	p.Memory, p.Iterations = p.Memory/8, p.Iterations*8
	for _, slots := range []int{1, runtime.NumCPU()} {
		b.Run(fmt.Sprintf("workers=%d", slots), func(b *testing.B) { hashInWorkers(b, p, slots) })
	}
}

// BenchmarkHashDefaultWorkers makes hashes on every core at once, each in a
// worker: its ns/op is the time per hash of the whole machine, the inverse
// of the most sign-ins a second it could hash.
func BenchmarkHashDefaultWorkers(b *testing.B) {
	hashInWorkers(b, DefaultParams(), runtime.NumCPU())
}

// hashInWorkers hashes with p in up to slots workers at once, from as many
// goroutines as the runtime has processors; ns/op is the time per hash of
// the whole machine.
func hashInWorkers(b *testing.B, p Params, slots int) {
	h := NewHasher(p, slots, time.Minute,
		WithWorkers([]string{os.Args[0], workerArg}, func(err error) { b.Error(err) }))
	defer h.Close()
	ctx := context.Background()
	b.SetParallelism(1) // RunParallel's goroutines are GOMAXPROCS × this
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
