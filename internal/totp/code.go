package totp

import (
	"crypto/subtle"
	"errors"
	"time"
	"unicode"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
)

// The fixed parameters every authenticator app supports; the package comment explains why
// they are not configurable.
const (
	// Digits is the length of a code.
	Digits = 6
	// Period is the lifetime of one step.
	Period = 30 * time.Second
	// SecretSize is the length in bytes of a new secret: RFC 4226 asks for at least 128
	// bits and recommends 160, the length of a SHA-1 digest.
	SecretSize = 20
)

// ErrInvalidFormat reports a code that is not exactly six ASCII digits once white space
// is removed.
var ErrInvalidFormat = errors.New("totp: code is not six digits")

// NormalizeCode returns s without any Unicode white space (spaces, tabs, line breaks, also
// inside the code, as people type "287 082"), and checks that exactly six ASCII digits
// remain. Leading zeros are kept: a code is a string, not a number (field case C06).
// Anything else gives ErrInvalidFormat, including "287-082": only digits and white space
// are accepted, which keeps the rule short enough to state on the sign-in page. Other
// digit scripts (such as full-width digits) are refused too.
//
// The input is read once and rejected at the seventh digit, so a 10,000-digit string
// costs no more than a short one.
func NormalizeCode(s string) (string, error) {
	var code [Digits]byte
	n := 0
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			continue
		case r < '0' || r > '9' || n == Digits:
			return "", ErrInvalidFormat
		}
		code[n] = byte(r)
		n++
	}
	if n != Digits {
		return "", ErrInvalidFormat
	}
	return string(code[:]), nil
}

// Step returns the RFC 6238 time step of t: whole periods since the Unix epoch, rounded
// down. Times before 1970 give negative steps, for which no code is defined; the package
// does not support them.
func Step(t time.Time) int64 {
	const period = int64(Period / time.Second)
	u := t.Unix()
	step := u / period
	if u%period < 0 {
		step--
	}
	return step
}

// Code returns the six-digit code for secret at time t. The server never needs it to
// check a code (Match does that); it serves tests, benchmarks and clock-skew hints.
func Code(secret []byte, t time.Time) string {
	return codeAt(EncodeSecret(secret), Step(t))
}

// codeAt returns the code of step for a secret already encoded by EncodeSecret. The
// library takes the secret as Base32 and counters as uint64; a negative step wraps to
// a large counter, which is why steps before 1970 are unsupported rather than wrong.
func codeAt(encoded string, step int64) string {
	code, err := hotp.GenerateCodeCustom(encoded, uint64(step), hotp.ValidateOpts{
		Digits:    otp.DigitsSix,
		Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		// The only error is a Base32 secret the library cannot decode, and EncodeSecret
		// always produces one it can. An empty code matches nothing, so even then no
		// code is accepted.
		return ""
	}
	return code
}

// Match compares code, already passed through NormalizeCode, with the codes of steps
// Step(now)-skew through Step(now)+skew, and returns the latest matching step. A negative
// skew counts as zero.
//
// Every step in the window is computed and compared with crypto/subtle, also after a
// match, so the time taken does not show whether or where the code matched (field case
// C15). The matched step is returned so the caller can record it and refuse that step
// and every earlier one afterwards: a code stays valid for the whole window, and without
// that record it could be replayed (field cases C10, C11).
func Match(secret []byte, code string, now time.Time, skew int) (step int64, ok bool) {
	encoded := EncodeSecret(secret)
	skew = max(skew, 0)
	base := Step(now)

	var found int
	for s := base - int64(skew); s <= base+int64(skew); s++ {
		// ConstantTimeCompare returns early only on a length mismatch, and the length
		// of the submitted code is no secret.
		eq := subtle.ConstantTimeCompare([]byte(codeAt(encoded, s)), []byte(code))
		mask := -int64(eq) // all ones on a match, zero otherwise
		step = step&^mask | s&mask
		found |= eq
	}
	if found == 0 {
		return 0, false
	}
	return step, true
}

// Offset returns the offset in steps, within maxSteps either side of now, at which code
// matches secret, preferring the offset nearest to zero and, between two at the same
// distance, the later one. It is meant only for enrolment
// hints such as "your phone's clock is two minutes behind"; it must never be used to
// accept a code, since a wide search accepts far more guesses than Match's small window.
func Offset(secret []byte, code string, now time.Time, maxSteps int) (offset int, ok bool) {
	encoded := EncodeSecret(secret)
	base := Step(now)

	for d := 0; d <= maxSteps; d++ {
		if codeAt(encoded, base+int64(d)) == code {
			return d, true
		}
		if d > 0 && codeAt(encoded, base-int64(d)) == code {
			return -d, true
		}
	}
	return 0, false
}
