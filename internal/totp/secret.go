package totp

import (
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// ErrInvalidSecret reports a Base32 secret that cannot be decoded: it is empty, has a
// length no Base32 encoding produces, has wrong padding, or holds characters outside the
// Base32 alphabet.
var ErrInvalidSecret = errors.New("totp: secret is not valid base32")

// b32 encodes without padding: a 20-byte secret never needs it, and '=' in a key URI
// turns into %3D, which some apps refuse (field case C04).
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewSecret reads a new secret of SecretSize bytes from r. Production code passes
// crypto/rand.Reader; tests pass a fixed reader to pin the secret.
func NewSecret(r io.Reader) ([]byte, error) {
	secret := make([]byte, SecretSize)
	if _, err := io.ReadFull(r, secret); err != nil {
		return nil, fmt.Errorf("totp: new secret: %w", err)
	}
	return secret, nil
}

// EncodeSecret returns secret in upper-case Base32 without '=' padding, the form key URIs
// and authenticator apps expect. The result matches ^[A-Z2-7]*$.
func EncodeSecret(secret []byte) string {
	return b32.EncodeToString(secret)
}

// DecodeSecret decodes a Base32 secret as people and other systems write it: upper or
// lower case, with whitespace anywhere (as in GroupSecret's display form), and with or
// without the '=' padding. Padding, if present, must be complete and correct. Any other
// fault gives an error wrapping ErrInvalidSecret; the error never contains the secret.
func DecodeSecret(s string) ([]byte, error) {
	s = strings.ToUpper(removeSpace(s))

	body := strings.TrimRight(s, "=")
	if pad := len(s) - len(body); pad > 0 && (len(s)%8 != 0 || pad != padFor(len(body))) {
		return nil, fmt.Errorf("%w: wrong padding", ErrInvalidSecret)
	}

	// Unpadded Base32 groups of 1, 3 or 6 characters cannot come from whole bytes;
	// base32's decoder would accept some of them and silently drop the stray bits.
	switch len(body) % 8 {
	case 1, 3, 6:
		return nil, fmt.Errorf("%w: impossible length", ErrInvalidSecret)
	}
	if body == "" {
		return nil, fmt.Errorf("%w: empty", ErrInvalidSecret)
	}

	secret, err := b32.DecodeString(body)
	if err != nil {
		// The base32 error names only an offset, but it is dropped anyway: nothing about
		// a secret belongs in an error that may reach a log.
		return nil, fmt.Errorf("%w: bad character", ErrInvalidSecret)
	}
	return secret, nil
}

// padFor returns the number of '=' a padded encoding adds after n Base32 characters.
func padFor(n int) int {
	if n%8 == 0 {
		return 0
	}
	return 8 - n%8
}

// GroupSecret splits an encoded secret into groups of four characters separated by
// spaces, for people who type it into an app by hand. DecodeSecret accepts the result.
func GroupSecret(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n > 0 && n%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// removeSpace returns s without any Unicode white space.
func removeSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}
