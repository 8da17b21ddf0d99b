package totp

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzNormalizeCode checks that NormalizeCode never panics, returns six ASCII digits or
// ErrInvalidFormat, and agrees with strings.Fields, an independent way to drop Unicode
// white space. Seeds live in testdata/fuzz/FuzzNormalizeCode.
func FuzzNormalizeCode(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeCode(s)

		joined := strings.Join(strings.Fields(s), "")
		want := ""
		if len(joined) == Digits && strings.Trim(joined, "0123456789") == "" {
			want = joined
		}

		if err != nil {
			if !errors.Is(err, ErrInvalidFormat) || got != "" {
				t.Fatalf("NormalizeCode(%q): got %q, %v; want ErrInvalidFormat alone", s, got, err)
			}
			if want != "" {
				t.Fatalf("NormalizeCode(%q): refused, want %q", s, want)
			}
			return
		}
		if got != want {
			t.Fatalf("NormalizeCode(%q): got %q, want %q", s, got, want)
		}
	})
}

// FuzzKeyURI checks that any valid UTF-8 issuer and account survive the key URI exactly,
// with no '+' or space in it. Seeds live in testdata/fuzz/FuzzKeyURI.
func FuzzKeyURI(f *testing.F) {
	secret := []byte("12345678901234567890")
	f.Fuzz(func(t *testing.T, issuer, account string) {
		if !utf8.ValidString(issuer) || !utf8.ValidString(account) {
			t.Skip("names come from UTF-8 forms and database columns")
		}
		checkKeyURI(t, issuer, account, secret)
	})
}
