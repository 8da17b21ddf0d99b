package totp

import (
	"strings"
	"testing"
)

// BenchmarkMatch measures a sign-in check with one step of skew: three HMACs and three
// comparisons whether or not the code matches.
func BenchmarkMatch(b *testing.B) {
	secret := []byte("12345678901234567890")
	now := unix(1700000010)
	for _, code := range []string{"732303", "000000"} {
		b.Run(code, func(b *testing.B) {
			for b.Loop() {
				Match(secret, code, now, 1)
			}
		})
	}
}

// BenchmarkNormalizeCodeLong measures the rejection of a 10,000-digit code (case C07).
func BenchmarkNormalizeCodeLong(b *testing.B) {
	long := strings.Repeat("7", 10000)
	for b.Loop() {
		NormalizeCode(long)
	}
}
