package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clientarea/clientarea/internal/oathtool"
	"github.com/clientarea/clientarea/internal/storetest"
)

func TestResetTwoFactorCLI(t *testing.T) {
	ts := startServer(t, nil, nil)
	c := ts.client(t)
	enrol(t, ts, c, alice)

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no reason", []string{"--email", alice}, 1, "reason"},
		{"blank reason", []string{"--email", alice, "--reason", "  "}, 1, "reason"},
		{"unknown e-mail", []string{"--email", "nobody@example.com", "--reason", "id"}, 1, "no account"},
		{"bad flag", []string{"--emial", alice}, 2, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := ts.cli(t, "", append([]string{"admin", "reset-2fa"}, tt.args...)...)
			if code == 0 || !strings.Contains(stderr, tt.wantErr) {
				t.Fatalf("got exit %d and %q, want non-zero and %q", code, stderr, tt.wantErr)
			}
			// Nothing changed: the session still works and 2FA is still on.
			tf := c.must(200, "GET", "/api/v1/account", nil)["two_factor"].(map[string]any)
			if tf["enabled"] != true {
				t.Fatal("2FA was turned off by a refused reset")
			}
		})
	}

	code, stdout, stderr := ts.cli(t, "", "admin", "reset-2fa", "--email", alice,
		"--reason", "video call, passport checked", "--operator", "sam")
	if code != 0 {
		t.Fatalf("reset: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "sam") {
		t.Errorf("reset output %q does not name the operator", stdout)
	}
	// Every session of the customer ended.
	c.must(401, "GET", "/api/v1/account", nil)
	// Signing in now needs only the password, and the reset is in the log.
	out := c.must(200, "POST", "/api/v1/login", map[string]string{"email": alice, "password": alicePW})
	if out["status"] != "signed_in" {
		t.Fatalf("login after reset: %v", out)
	}
	events := c.must(200, "GET", "/api/v1/account/events", nil)["events"].([]any)
	found := false
	for _, e := range events {
		ev := e.(map[string]any)
		if ev["kind"] == "2fa_reset" && strings.Contains(str(ev["detail"]), "sam") {
			found = true
		}
	}
	if !found {
		t.Errorf("no 2fa_reset event naming the operator in %v", events)
	}
	mails := ts.outbox(t)
	if last := mails[len(mails)-1]; !strings.Contains(last, alice) {
		t.Errorf("last e-mail is not to the customer: %q", last)
	}
	// With 2FA off there is nothing to reset: refused, nothing e-mailed.
	code, _, stderr = ts.cli(t, "", "admin", "reset-2fa", "--email", alice, "--reason", "again")
	if code == 0 || !strings.Contains(stderr, "not on") {
		t.Errorf("reset of an account without 2FA: exit %d, %q", code, stderr)
	}
	if n := len(ts.outbox(t)); n != len(mails) {
		t.Errorf("a refused reset sent %d e-mails", n-len(mails))
	}
}

func TestCreateUserCLI(t *testing.T) {
	ts := startServer(t, nil, nil)
	code, _, stderr := ts.cli(t, "", "admin", "create-user", "--email", "staff@example.com", "--admin")
	if code == 0 {
		t.Fatal("create-user without a password on standard input succeeded")
	}
	if !strings.Contains(stderr, "standard input") {
		t.Errorf("got %q, want a hint about standard input", stderr)
	}
	code, _, stderr = ts.cli(t, "a long staff password\n", "admin", "create-user",
		"--email", "staff@example.com", "--admin")
	if code != 0 {
		t.Fatalf("create-user: exit %d: %s", code, stderr)
	}
	c := ts.client(t)
	c.must(200, "POST", "/api/v1/login", map[string]string{"email": "staff@example.com",
		"password": "a long staff password"})
	if role := c.must(200, "GET", "/api/v1/account", nil)["role"]; role != "admin" {
		t.Errorf("got role %v, want admin", role)
	}
}

// TestBackupRestore copies the database while the server runs, starts a
// second server on the copy and signs in there with password and code.
func TestBackupRestore(t *testing.T) {
	ts := startServer(t, nil, nil)
	secret, _, _ := enrol(t, ts, ts.client(t), alice)
	copyDir := t.TempDir()
	backup := filepath.Join(copyDir, "clientarea.db")
	if code, _, stderr := ts.cli(t, "", "admin", "backup", "--to", backup); code != 0 {
		t.Fatalf("backup: %s", stderr)
	}
	key, err := os.ReadFile(filepath.Join(ts.Data, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(copyDir, "secret.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	clk := storetest.NewClock(ts.Clock.Now().Add(time.Minute))
	restored := startServer(t, clk, nil, "--data", copyDir)
	c := restored.client(t)
	signIn(t, c, alice)
	c.must(200, "POST", "/api/v1/login/totp",
		map[string]string{"code": oathtool.TOTP(t, secret, clk.Now())})
}

// TestAdminWarnsOfNewInstall runs create-user on a data folder with no
// database: it works, as for the first support account of a new install,
// but says it is creating one; on an existing install it says nothing.
func TestAdminWarnsOfNewInstall(t *testing.T) {
	fresh := t.TempDir()
	code, _, stderr := runCLIWithInput("a long staff password\n", "admin", "create-user",
		"--email", "staff@example.com", "--data", fresh, "--hash-memory", "64",
		"--hash-iterations", "1", "--hash-workers=false")
	if code != 0 {
		t.Fatalf("create-user: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "creating a new install") || strings.Contains(stderr, "pass --data") {
		t.Errorf("create-user on an empty folder given with --data: stderr %q, want a warning "+
			"without a hint to pass --data", stderr)
	}
	code, _, stderr = runCLIWithInput("another long password\n", "admin", "create-user",
		"--email", "staff2@example.com", "--data", fresh, "--hash-memory", "64",
		"--hash-iterations", "1", "--hash-workers=false")
	if code != 0 || strings.Contains(stderr, "creating a new install") {
		t.Errorf("create-user on an existing install: exit %d, stderr %q; want 0 and no warning",
			code, stderr)
	}
}

// TestAdminRequiredFlagsFirst: a command missing a required flag, or given
// input it would refuse, says so before it opens the installation, so an
// empty folder stays empty.
func TestAdminRequiredFlagsFirst(t *testing.T) {
	for _, tt := range []struct {
		args        []string
		stdin, want string
	}{
		{[]string{"create-user"}, "a long staff password\n", "--email is required"},
		{[]string{"create-user", "--email", "not an address"}, "a long staff password\n",
			"e-mail"},
		{[]string{"create-user", "--email", "staff@example.com"}, "short\n", "password"},
		{[]string{"create-user", "--email", "staff@example.com"}, "", "standard input"},
		{[]string{"reset-2fa", "--email", "a@example.com"}, "", "--reason is required"},
		{[]string{"backup"}, "", "--to is required"},
		{[]string{"migrate-to", "--to", ""}, "", "--to is required"},
	} {
		t.Run(strings.Join(tt.args, " ")+" "+strings.TrimSpace(tt.stdin), func(t *testing.T) {
			fresh := t.TempDir()
			args := append([]string{"admin"}, tt.args...)
			code, _, stderr := runCLIWithInput(tt.stdin, append(args, "--data", fresh)...)
			if code == 0 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want a failure saying %q", code, stderr, tt.want)
			}
			if entries, err := os.ReadDir(fresh); err != nil || len(entries) != 0 {
				t.Errorf("the data folder holds %v, %v; want it untouched", entries, err)
			}
		})
	}
}
