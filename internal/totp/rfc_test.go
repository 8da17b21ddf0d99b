package totp

import (
	"strconv"
	"strings"
	"testing"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
)

// TestRFC6238AppendixB checks the eight-digit vectors of RFC 6238 Appendix B for all three
// algorithms, each with its own seed length (field case C01): SHA-1 keys are the 20-byte
// ASCII "1234567890" pattern, SHA-256 32 bytes and SHA-512 64 bytes of it. SHA-256 and
// SHA-512 at T=59 fail if truncation reads a fixed byte instead of the dynamic offset
// (C02). T=20000000000 needs a step counter wider than 32 bits.
func TestRFC6238AppendixB(t *testing.T) {
	v := loadVectors(t)
	algs := []struct {
		name string
		seed string
		size int
		alg  otp.Algorithm
	}{
		{"sha1", "SEED20", 20, otp.AlgorithmSHA1},
		{"sha256", "SEED32", 32, otp.AlgorithmSHA256},
		{"sha512", "SEED64", 64, otp.AlgorithmSHA512},
	}
	for _, a := range algs {
		seed := v.secret(t, a.seed)
		wantSeed := strings.Repeat("1234567890", 7)[:a.size]
		if string(seed) != wantSeed {
			t.Fatalf("%s decodes to %q, want %q", a.seed, seed, wantSeed)
		}
		if len(v.RFC6238[a.name]) != 6 {
			t.Fatalf("%s: got %d vectors, want 6", a.name, len(v.RFC6238[a.name]))
		}

		for ts, want := range v.RFC6238[a.name] {
			t.Run(a.name+"/"+ts, func(t *testing.T) {
				sec, err := strconv.ParseInt(ts, 10, 64)
				if err != nil {
					t.Fatal(err)
				}
				counter := uint64(Step(unix(sec)))
				opts := hotp.ValidateOpts{Digits: otp.DigitsEight, Algorithm: a.alg}
				got, err := hotp.GenerateCodeCustom(EncodeSecret(seed), counter, opts)
				if err != nil {
					t.Fatalf("GenerateCodeCustom: %v", err)
				}
				if got != want {
					t.Errorf("got %s, want %s", got, want)
				}

				// Six digits are the last six of the eight: the modulus is a power of ten.
				if a.name == "sha1" {
					if got := Code(seed, unix(sec)); got != want[2:] {
						t.Errorf("Code: got %s, want %s", got, want[2:])
					}
				}
			})
		}
	}
}

// TestStep checks step numbers, including RFC 6238 Appendix B's hex column
// (T=20000000000 is step 0x27BC86AA) and the field cases' T0.
func TestStep(t *testing.T) {
	v := loadVectors(t)
	tests := []struct {
		sec  int64
		want int64
	}{
		{0, 0},
		{29, 0},
		{30, 1},
		{59, 1},
		{1111111109, 0x23523EC},
		{1234567890, 0x273EF07},
		{20000000000, 0x27BC86AA},
		{v.ClockT0, v.StepNAt0},
		{-1, -1}, // floor, although no code is defined before 1970
	}
	for _, tt := range tests {
		if got := Step(unix(tt.sec)); got != tt.want {
			t.Errorf("Step(%d): got %d, want %d", tt.sec, got, tt.want)
		}
	}

	for name, s := range v.Steps {
		for _, sec := range []int64{s.From, s.To} {
			if got := Step(unix(sec)); got != s.Step {
				t.Errorf("%s: Step(%d): got %d, want %d", name, sec, got, s.Step)
			}
		}
	}
}
