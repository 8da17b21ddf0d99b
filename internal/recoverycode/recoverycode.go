// Package recoverycode makes and checks the one-time recovery codes that stand in for a lost
// authenticator app.
//
// A code is 12 symbols of Crockford's Base32 alphabet, 0-9 and A-Z without I, L, O and U,
// shown as XXXX-XXXX-XXXX. The alphabet has no pair of look-alikes: where a reader might
// see O, I or L, the code holds 0 or 1, and Normalize maps the letters typed by mistake to
// those digits. 32 symbols give exactly 5 bits each, so a code carries 60 bits of entropy,
// above the 50 bits we require.
package recoverycode

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"slices"
)

// Count is the number of codes in a set.
const Count = 10

// Length is the number of symbols in a code, without the hyphens.
const Length = 12

// SaltLen is the length of the salts NewSalt returns.
const SaltLen = 16

// alphabet is Crockford's Base32 alphabet. Its length is a power of two, so sampling from
// bytes never rejects; the rejection step in randomSymbols keeps it unbiased should the
// alphabet ever change.
const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// maxInput bounds what Normalize looks at: a pasted code with generous spacing fits, and a
// megabyte of input is refused without being scanned.
const maxInput = 64

// ErrInvalidFormat is returned by Normalize for input that cannot be a recovery code.
var ErrInvalidFormat = errors.New("recoverycode: not a recovery code")

// Generate returns Count distinct codes made from r (crypto/rand.Reader when r is nil),
// grouped as XXXX-XXXX-XXXX for display.
func Generate(r io.Reader) ([]string, error) {
	if r == nil {
		r = rand.Reader
	}
	codes := make([]string, 0, Count)
	// Two codes collide with probability about 2^-54 per set; the bound only stops a broken
	// reader that repeats itself from looping forever.
	for range 2 * Count {
		code, err := randomSymbols(r, alphabet, Length)
		if err != nil {
			return nil, fmt.Errorf("recoverycode: generate: %w", err)
		}
		if slices.Contains(codes, group(code)) {
			continue
		}
		if codes = append(codes, group(code)); len(codes) == Count {
			return codes, nil
		}
	}
	return nil, errors.New("recoverycode: generate: random source repeats itself")
}

// randomSymbols returns n symbols of alphabet drawn uniformly with bytes of r. A byte at or
// above the largest multiple of len(alphabet) is thrown away, so every symbol is equally
// likely.
func randomSymbols(r io.Reader, alphabet string, n int) (string, error) {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, n)
	for len(out) < n {
		chunk := buf[:n-len(out)]
		if _, err := io.ReadFull(r, chunk); err != nil {
			return "", err
		}
		for _, b := range chunk {
			if int(b) < limit {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}

// group inserts a hyphen after every fourth symbol.
func group(code string) string {
	return code[0:4] + "-" + code[4:8] + "-" + code[8:12]
}

// Normalize returns the canonical form of a typed code: 12 upper-case symbols without
// separators. It ignores case, spaces, tabs, line breaks, hyphens, underscores and dots,
// reads O as 0 and I or L as 1, and returns ErrInvalidFormat for anything else, including
// non-ASCII characters. Its errors never quote the input.
func Normalize(s string) (string, error) {
	if len(s) > maxInput {
		return "", ErrInvalidFormat
	}
	out := make([]byte, 0, Length)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\r', '\n', '-', '_', '.':
			continue
		default:
			sym, ok := canonical(c)
			if !ok || len(out) == Length {
				return "", ErrInvalidFormat
			}
			out = append(out, sym)
		}
	}
	if len(out) != Length {
		return "", ErrInvalidFormat
	}
	return string(out), nil
}

// canonical returns the alphabet symbol a typed character stands for.
func canonical(c byte) (byte, bool) {
	if 'a' <= c && c <= 'z' {
		c -= 'a' - 'A'
	}
	switch {
	case c == 'O':
		return '0', true
	case c == 'I' || c == 'L':
		return '1', true
	case c == 'U':
		return 0, false
	case '0' <= c && c <= '9' || 'A' <= c && c <= 'Z':
		return c, true
	}
	return 0, false
}

// NewSalt returns SaltLen bytes from r (crypto/rand.Reader when r is nil). One salt serves
// a whole set of codes: Match compares one hash against every stored hash.
func NewSalt(r io.Reader) ([]byte, error) {
	if r == nil {
		r = rand.Reader
	}
	salt := make([]byte, SaltLen)
	if _, err := io.ReadFull(r, salt); err != nil {
		return nil, fmt.Errorf("recoverycode: new salt: %w", err)
	}
	return salt, nil
}

// Hash returns HMAC-SHA256(salt, normalized), the value to store for a code. Pass the
// output of Normalize, so that every spelling of a code hashes alike.
//
// A fast keyed hash is enough here, unlike for passwords. A slow hash makes up for the few
// bits a human-chosen password has; these codes are random with 60 bits, so an attacker who
// stole the database needs about 2^56 guesses on average to find any one of a set's ten
// codes, and the per-set salt makes every set a separate search. Even then the code only
// replaces the second factor: it is worthless without the password, which the same theft
// yields only as an Argon2id hash. Online, guesses are throttled.
func Hash(normalized string, salt []byte) []byte {
	mac := hmac.New(sha256.New, salt)
	mac.Write([]byte(normalized))
	return mac.Sum(nil)
}

// Match returns the index of the first stored hash equal to h, or -1. It compares h with
// every stored hash in constant time and never stops early, so its duration does not tell
// which code matched or whether any did.
func Match(stored [][]byte, h []byte) int {
	return match(stored, h, subtle.ConstantTimeCompare)
}

// match is Match with the comparison injected, so tests can count comparisons.
func match(stored [][]byte, h []byte, equal func(a, b []byte) int) int {
	index, found := -1, 0
	for i, s := range stored {
		eq := equal(s, h)
		index = subtle.ConstantTimeSelect(eq&^found, i, index)
		found |= eq
	}
	return index
}
