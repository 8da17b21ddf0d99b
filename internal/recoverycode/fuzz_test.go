package recoverycode

import (
	"errors"
	"testing"
)

// FuzzNormalize checks that Normalize never panics, fails only with ErrInvalidFormat, and
// returns a canonical code that normalizes to itself, alone and grouped. The seed corpus
// lives in testdata/fuzz/FuzzNormalize.
func FuzzNormalize(f *testing.F) {
	f.Add("ABCD-EFGH-JKMN")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Normalize(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidFormat) {
				t.Fatalf("Normalize = %v, want nil or ErrInvalidFormat", err)
			}
			return
		}
		if len(got) != Length {
			t.Fatalf("Normalize = %q, want %d symbols", got, Length)
		}
		for i := 0; i < len(got); i++ {
			if !isSymbol(got[i]) {
				t.Fatalf("Normalize = %q, symbol %q is not in the alphabet", got, got[i])
			}
		}
		for _, again := range []string{got, group(got)} {
			if n, err := Normalize(again); err != nil || n != got {
				t.Fatalf("Normalize(%q) = %q, %v; want %q", again, n, err, got)
			}
		}
	})
}

// isSymbol spells the alphabet out independently of the package's constant.
func isSymbol(c byte) bool {
	switch {
	case '0' <= c && c <= '9':
		return true
	case c == 'I' || c == 'L' || c == 'O' || c == 'U':
		return false
	default:
		return 'A' <= c && c <= 'Z'
	}
}
