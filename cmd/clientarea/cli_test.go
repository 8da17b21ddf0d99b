package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clientarea/clientarea/internal/oathtool"
	"github.com/clientarea/clientarea/internal/storetest"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	return runCLIWithInput("", args...)
}

// runCLIWithInput runs one command line with stdin as its standard input.
func runCLIWithInput(stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(context.Background(), args, sys{getenv: func(string) string { return "" },
		stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb})
	return code, out.String(), errb.String()
}

func TestHelpAndVersion(t *testing.T) {
	tests := []struct {
		args     []string
		wantCode int
		want     string
	}{
		{[]string{"help"}, 0, "serve"},
		{nil, 2, "Usage"},
		{[]string{"version"}, 0, "clientarea "},
		{[]string{"serve", "--help"}, 0, "-database-url"},
		{[]string{"migrate", "--help"}, 0, "-data"},
		{[]string{"admin", "--help"}, 0, "reset-2fa"},
		{[]string{"admin", "reset-2fa", "--help"}, 0, "-reason"},
		{[]string{"admin", "create-user", "--help"}, 0, "-admin"},
		{[]string{"admin", "rotate-key", "--help"}, 0, "-grace"},
		{[]string{"admin", "backup", "--help"}, 0, "-to"},
		{[]string{"admin", "migrate-to", "--help"}, 0, "-to"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"admin", "frobnicate"}, 1, "unknown admin command"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := runCLI(tt.args...)
			if code != tt.wantCode || !strings.Contains(stdout+stderr, tt.want) {
				t.Errorf("got exit %d and\n%s%s\nwant exit %d and %q", code, stdout, stderr,
					tt.wantCode, tt.want)
			}
		})
	}
}

// TestAdminHelpShowsItsOwnFlags: the help of an admin command, and of
// migrate, lists its own flags and the settings that choose the
// installation, not every setting of the server.
func TestAdminHelpShowsItsOwnFlags(t *testing.T) {
	commands := []string{"migrate"}
	for _, c := range adminCommands() {
		commands = append(commands, "admin "+c.name)
	}
	for _, name := range commands {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := runCLI(append(strings.Fields(name), "--help")...)
			if code != 0 {
				t.Fatalf("exit %d:\n%s", code, stderr)
			}
			for _, want := range []string{"Usage: clientarea " + name, "-data",
				"-database-url", "-config", "clientarea serve --help"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("help lacks %q:\n%s", want, stderr)
				}
			}
			for _, serveOnly := range []string{"-tls-cert", "-addr", "-metrics-addr", "-hash-wait"} {
				if strings.Contains(stderr, serveOnly+" ") || strings.Contains(stderr, serveOnly+"\n") {
					t.Errorf("help lists the server's %s:\n%s", serveOnly, stderr)
				}
			}
		})
	}
}

// TestMigrateTo moves a running install from SQLite to PostgreSQL: the
// customer signs in on the new database with the same authenticator.
func TestMigrateTo(t *testing.T) {
	dsn := storetest.NewDatabase(t, storetest.Postgres)
	ts := startServer(t, nil, nil)
	secret, codes, _ := enrol(t, ts, ts.client(t), alice)
	if code, _, stderr := ts.cli(t, "", "admin", "migrate-to", "--to", dsn); code != 0 {
		t.Fatalf("migrate-to: %s", stderr)
	}
	// A second copy into the now full database is refused.
	if code, _, _ := ts.cli(t, "", "admin", "migrate-to", "--to", dsn); code == 0 {
		t.Fatal("migrate-to a non-empty database succeeded")
	}
	key, err := os.ReadFile(filepath.Join(ts.Data, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"CLIENTAREA_SECRET_KEY": keyLine(key)}
	clk := storetest.NewClock(ts.Clock.Now().Add(time.Minute))
	pg := startServer(t, clk, env, "--database-url", dsn)
	c := pg.client(t)
	signIn(t, c, alice)
	c.must(200, "POST", "/api/v1/login/totp",
		map[string]string{"code": oathtool.TOTP(t, secret, clk.Now())})
	c.must(204, "POST", "/api/v1/logout", nil)
	signIn(t, c, alice)
	c.must(200, "POST", "/api/v1/login/recovery", map[string]string{"code": codes[0]})
	// New rows get new ids after the copied ones.
	c.must(201, "POST", "/api/v1/signup", map[string]string{"email": "bob@example.com",
		"password": alicePW})
}
