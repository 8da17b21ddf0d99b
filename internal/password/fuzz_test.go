package password

import (
	"context"
	"errors"
	"testing"
	"time"
)

// FuzzVerify feeds arbitrary stored hashes to Verify. Whatever the input, Verify must return
// without panicking, and every failure must be one of its documented errors. The seed corpus
// lives in testdata/fuzz/FuzzVerify.
func FuzzVerify(f *testing.F) {
	for _, v := range cliVectors[:3] {
		f.Add(v.encoded, v.password)
	}
	// The maximum keeps the fuzzer from spending its time on legitimately huge costs.
	limit := Params{Memory: 1024, Iterations: 4, Parallelism: 8, SaltLen: 64, KeyLen: 128}
	h := NewHasher(testParams, 4, time.Minute, WithMaxParams(limit))
	f.Fuzz(func(t *testing.T, encoded, password string) {
		_, err := h.Verify(context.Background(), encoded, password)
		if err != nil && !errors.Is(err, ErrMismatch) && !errors.Is(err, ErrMalformed) {
			t.Errorf("Verify = %v, want nil, ErrMismatch or ErrMalformed", err)
		}
	})
}
