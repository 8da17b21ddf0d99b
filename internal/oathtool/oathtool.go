// Package oathtool runs the oathtool command (Debian package oathtool) so
// that tests can check clientarea's TOTP codes against an implementation
// that is not ours.
package oathtool

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Require fails the test under CI=true, and skips it elsewhere, when
// oathtool is not installed.
func Require(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("oathtool"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("oathtool is not installed (apt-get install oathtool)")
		}
		t.Skip("oathtool is not installed")
	}
}

// TOTP returns the six-digit SHA-1, 30-second code of a Base32 secret at t.
func TOTP(tb testing.TB, secret string, at time.Time) string {
	tb.Helper()
	return Window(tb, secret, at, 1)[0]
}

// Window returns the codes of n consecutive steps, the first at t.
func Window(tb testing.TB, secret string, at time.Time, n int) []string {
	tb.Helper()
	Require(tb)
	now := at.UTC().Format("2006-01-02 15:04:05 UTC")
	// The secret goes on standard input ("-"), out of the process list.
	cmd := exec.Command("oathtool", "--totp", "--base32", "--now", now,
		"--window", strconv.Itoa(n-1), "-")
	cmd.Stdin = strings.NewReader(secret + "\n")
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("oathtool: %v", err)
	}
	codes := strings.Fields(string(out))
	if len(codes) != n {
		tb.Fatalf("oathtool gave %d codes, want %d", len(codes), n)
	}
	for _, c := range codes {
		if len(c) != 6 {
			tb.Fatalf("oathtool gave %q, want six digits", c)
		}
	}
	return codes
}
