package totp

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestOathtool compares Code and Match with OATH Toolkit's oathtool for random secrets
// of several lengths at random times up to 2^34 seconds. The random source is seeded so
// a failure can be repeated. The secret goes to oathtool on standard input, not on the
// command line, where other users could read it from the process list.
func TestOathtool(t *testing.T) {
	path, err := exec.LookPath("oathtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("oathtool not found on PATH; install the oathtool package")
		}
		t.Skip("oathtool not found on PATH")
	}

	rng := rand.New(rand.NewPCG(6238, 4226))
	times := []int64{0, 59, 1700000010, 20000000000}
	for range 12 {
		times = append(times, rng.Int64N(1<<34))
	}
	sizes := []int{10, 16, 20, 32, 64}

	for i, sec := range times {
		secret := make([]byte, sizes[i%len(sizes)])
		for j := range secret {
			secret[j] = byte(rng.Uint32())
		}
		t.Run(fmt.Sprintf("%d bytes at %d", len(secret), sec), func(t *testing.T) {
			want := oathtool(t, path, EncodeSecret(secret), sec)
			if got := Code(secret, unix(sec)); got != want {
				t.Errorf("Code: got %s, want %s", got, want)
			}
			if step, ok := Match(secret, want, unix(sec), 1); !ok || step != sec/30 {
				t.Errorf("Match: got %d, %t; want %d, true", step, ok, sec/30)
			}
		})
	}
}

// oathtool returns oathtool's six-digit TOTP code for the Base32 secret at Unix time sec.
func oathtool(t *testing.T, path, secret string, sec int64) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), path, "--totp", "--base32",
		"--now", fmt.Sprintf("@%d", sec), "-")
	cmd.Stdin = strings.NewReader(secret + "\n")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oathtool: %v", err)
	}
	code := strings.TrimSpace(string(out))
	if len(code) != 6 {
		t.Fatalf("oathtool printed %q, want six digits", code)
	}
	return code
}
