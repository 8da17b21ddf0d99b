package recoverycode

import (
	"bytes"
	"testing"
)

// BenchmarkCheck measures the check of one typed recovery code against an
// account's set of ten, as sign-in does it: normalise the input, hash it
// with the set's salt, compare it with every stored hash. "match" is the
// set's last code, "miss" a code of another set; both take the same work.
func BenchmarkCheck(b *testing.B) {
	salt := bytes.Repeat([]byte{7}, SaltLen)
	codes, err := Generate(nil)
	if err != nil {
		b.Fatalf("Generate: %v", err)
	}
	stored := make([][]byte, len(codes))
	for i, c := range codes {
		n, err := Normalize(c)
		if err != nil {
			b.Fatalf("Normalize(%s): %v", c, err)
		}
		stored[i] = Hash(n, salt)
	}
	for _, tt := range []struct {
		name, typed string
		want        int
	}{
		{"match", codes[len(codes)-1], len(codes) - 1},
		{"miss", "zzzz-zzzz-zzzz", -1},
	} {
		b.Run(tt.name, func(b *testing.B) {
			for b.Loop() {
				n, err := Normalize(tt.typed)
				if err != nil {
					b.Fatalf("Normalize: %v", err)
				}
				if got := Match(stored, Hash(n, salt)); got != tt.want {
					b.Fatalf("Match: got %d, want %d", got, tt.want)
				}
			}
		})
	}
}
