package config

import (
	"flag"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func load(t *testing.T, args []string, env map[string]string) (Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return Load(fs, args, func(k string) string { return env[k] })
}

func TestPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "clientarea.conf")
	conf := "# comment\naddr = 127.0.0.1:7000\nissuer = \"Acme & Co\"\nhash-wait = 2s\n"
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantAddr string
	}{
		{"file", []string{"--config", file}, nil, "127.0.0.1:7000"},
		{"environment over file", []string{"--config", file},
			map[string]string{"CLIENTAREA_ADDR": "127.0.0.1:7001"}, "127.0.0.1:7001"},
		{"flag over environment", []string{"--config", file, "--addr", "127.0.0.1:7002"},
			map[string]string{"CLIENTAREA_ADDR": "127.0.0.1:7001"}, "127.0.0.1:7002"},
		{"file from the environment", nil, map[string]string{"CLIENTAREA_CONFIG": file},
			"127.0.0.1:7000"},
		{"default", nil, nil, "127.0.0.1:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := load(t, tt.args, tt.env)
			if err != nil {
				t.Fatal(err)
			}
			if c.Addr != tt.wantAddr {
				t.Errorf("got addr %q, want %q", c.Addr, tt.wantAddr)
			}
		})
	}
	c, err := load(t, []string{"--config", file}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != "Acme & Co" || c.HashWait != 2*time.Second {
		t.Errorf("got issuer %q and hash-wait %v from the file", c.Issuer, c.HashWait)
	}
}

func TestTrustedProxies(t *testing.T) {
	c, err := load(t, []string{"--trusted-proxies", "10.0.0.1, 192.168.0.0/16,::1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32"),
		netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("::1/128")}
	if len(c.TrustedProxies) != len(want) {
		t.Fatalf("got %v, want %v", c.TrustedProxies, want)
	}
	for i := range want {
		if c.TrustedProxies[i] != want[i] {
			t.Errorf("proxy %d: got %v, want %v", i, c.TrustedProxies[i], want[i])
		}
	}
}

func TestInvalid(t *testing.T) {
	file := filepath.Join(t.TempDir(), "bad.conf")
	if err := os.WriteFile(file, []byte("no-such-setting = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"log format", []string{"--log-format", "xml"}, nil, "log-format"},
		{"tls half", []string{"--tls-cert", "c.pem"}, nil, "tls-key"},
		{"proxy", []string{"--trusted-proxies", "not-an-ip"}, nil, "not-an-ip"},
		{"env duration", nil, map[string]string{"CLIENTAREA_HASH_WAIT": "soon"}, "hash-wait"},
		{"unknown file key", []string{"--config", file}, nil, "no-such-setting"},
		{"missing file", []string{"--config", file + ".missing"}, nil, "no such file"},
		{"zero conns", []string{"--db-max-conns", "0"}, nil, "db-max-conns"},
		{"empty issuer", nil, map[string]string{"CLIENTAREA_ISSUER": " "}, "issuer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, tt.args, tt.env)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

// TestDocumented keeps docs/configuration.md complete: every flag and its
// variable appear in it.
func TestDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range settings {
		for _, want := range []string{"`--" + s.name + "`", "`" + EnvName(s.name) + "`"} {
			if !strings.Contains(string(doc), want) {
				t.Errorf("docs/configuration.md does not mention %s", want)
			}
		}
	}
}
