// Package config holds clientarea's settings and loads them from, in order
// of precedence, command-line flags, CLIENTAREA_* environment variables, an
// optional configuration file, and the defaults. docs/configuration.md
// lists every setting.
package config

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net/mail"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is every setting of a clientarea instance.
type Config struct {
	Addr        string
	Data        string
	DatabaseURL string
	Issuer      string
	BaseURL     string
	// SecretKey is the sealing key (64 hex digits, or several separated by
	// commas during a rotation, the new one first). Empty: a key file in Data.
	SecretKey string
	SMTPURL   string
	MailFrom  string

	LogFormat   string
	LogLevel    string
	MetricsAddr string

	TLSCert        string
	TLSKey         string
	SecureCookies  bool
	TrustedProxies []netip.Prefix

	HashMemoryKiB  uint
	HashIterations uint
	HashLanes      uint
	HashConcurrent int
	HashWait       time.Duration
	// HashWorkers runs password hashes in child processes of the server
	// (password.WithWorkers) rather than in the server's own runtime.
	HashWorkers  bool
	DBMaxConns   int
	ShutdownWait time.Duration
	// MemoryLimitMiB is the Go runtime's soft memory limit for the server;
	// 0 leaves it to GOMEMLIMIT or the runtime's default (none).
	MemoryLimitMiB int
}

// Defaults returns the settings of a new install.
func Defaults() Config {
	return Config{
		Addr:           "127.0.0.1:8080",
		Data:           "./data",
		Issuer:         "Client Area",
		LogFormat:      "text",
		LogLevel:       "info",
		HashMemoryKiB:  19456,
		HashIterations: 2,
		HashLanes:      1,
		HashWait:       5 * time.Second,
		HashWorkers:    true,
		DBMaxConns:     10,
		ShutdownWait:   10 * time.Second,
		MemoryLimitMiB: 150,
	}
}

// setting describes one setting once: its flag, its variable, its file key.
type setting struct {
	name  string // flag name and config-file key; the variable is derived
	usage string
	bind  func(fs *flag.FlagSet, c *Config, name, usage string)
}

func str(field func(*Config) *string) func(*flag.FlagSet, *Config, string, string) {
	return func(fs *flag.FlagSet, c *Config, name, usage string) {
		p := field(c)
		fs.StringVar(p, name, *p, usage)
	}
}

func uintv(field func(*Config) *uint) func(*flag.FlagSet, *Config, string, string) {
	return func(fs *flag.FlagSet, c *Config, name, usage string) {
		p := field(c)
		fs.UintVar(p, name, *p, usage)
	}
}

func intv(field func(*Config) *int) func(*flag.FlagSet, *Config, string, string) {
	return func(fs *flag.FlagSet, c *Config, name, usage string) {
		p := field(c)
		fs.IntVar(p, name, *p, usage)
	}
}

func boolv(field func(*Config) *bool) func(*flag.FlagSet, *Config, string, string) {
	return func(fs *flag.FlagSet, c *Config, name, usage string) {
		p := field(c)
		fs.BoolVar(p, name, *p, usage)
	}
}

func dur(field func(*Config) *time.Duration) func(*flag.FlagSet, *Config, string, string) {
	return func(fs *flag.FlagSet, c *Config, name, usage string) {
		p := field(c)
		fs.DurationVar(p, name, *p, usage)
	}
}

// proxies binds a comma-separated list of addresses or CIDR prefixes.
type proxies struct{ p *[]netip.Prefix }

func (v proxies) String() string {
	if v.p == nil {
		return ""
	}
	s := make([]string, len(*v.p))
	for i, p := range *v.p {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

func (v proxies) Set(s string) error {
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if p, err := netip.ParsePrefix(part); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return fmt.Errorf("%q is not an IP address or CIDR prefix", part)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	*v.p = out
	return nil
}

var settings = []setting{
	{"addr", "listen address (host:port)", str(func(c *Config) *string { return &c.Addr })},
	{"data", "data folder: SQLite database, key file, outbox", str(func(c *Config) *string { return &c.Data })},
	{"database-url", "postgres:// URL; empty: SQLite in the data folder",
		str(func(c *Config) *string { return &c.DatabaseURL })},
	{"issuer", "name authenticator apps show", str(func(c *Config) *string { return &c.Issuer })},
	{"base-url", "public address for links in e-mails (default http://ADDR)",
		str(func(c *Config) *string { return &c.BaseURL })},
	{"smtp-url", "smtp:// or smtps:// URL; empty: .eml files in DATA/outbox",
		str(func(c *Config) *string { return &c.SMTPURL })},
	{"mail-from", "From address of e-mails", str(func(c *Config) *string { return &c.MailFrom })},
	{"log-format", "text or json", str(func(c *Config) *string { return &c.LogFormat })},
	{"log-level", "debug, info, warn or error", str(func(c *Config) *string { return &c.LogLevel })},
	{"metrics-addr", "separate listen address for /metrics; empty: served on --addr",
		str(func(c *Config) *string { return &c.MetricsAddr })},
	{"tls-cert", "TLS certificate file (serve HTTPS directly)",
		str(func(c *Config) *string { return &c.TLSCert })},
	{"tls-key", "TLS private key file", str(func(c *Config) *string { return &c.TLSKey })},
	{"secure-cookies", "mark cookies Secure (behind a TLS-terminating proxy)",
		boolv(func(c *Config) *bool { return &c.SecureCookies })},
	{"trusted-proxies", "comma-separated addresses or CIDRs whose X-Forwarded-For is believed",
		func(fs *flag.FlagSet, c *Config, name, usage string) {
			fs.Var(proxies{&c.TrustedProxies}, name, usage)
		}},
	{"hash-memory", "argon2id memory in KiB (OWASP minimum 19456)",
		uintv(func(c *Config) *uint { return &c.HashMemoryKiB })},
	{"hash-iterations", "argon2id iterations (OWASP minimum 2)",
		uintv(func(c *Config) *uint { return &c.HashIterations })},
	{"hash-lanes", "argon2id parallelism", uintv(func(c *Config) *uint { return &c.HashLanes })},
	{"hash-concurrency", "password hashes run at once (0: one per core)",
		intv(func(c *Config) *int { return &c.HashConcurrent })},
	{"hash-wait", "longest wait for a hashing slot before answering 503",
		dur(func(c *Config) *time.Duration { return &c.HashWait })},
	{"hash-workers", "hash passwords in worker processes, so that sign-ins do not slow other requests",
		boolv(func(c *Config) *bool { return &c.HashWorkers })},
	{"db-max-conns", "database connections per instance",
		intv(func(c *Config) *int { return &c.DBMaxConns })},
	{"shutdown-wait", "time given to requests in flight at shutdown",
		dur(func(c *Config) *time.Duration { return &c.ShutdownWait })},
	{"memory-limit", "soft memory limit of the server in MiB (0: none; GOMEMLIMIT wins)",
		intv(func(c *Config) *int { return &c.MemoryLimitMiB })},
}

// EnvName is the environment variable of a setting.
func EnvName(name string) string {
	return "CLIENTAREA_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// Flags registers every setting on fs, bound to c, plus --config.
func Flags(fs *flag.FlagSet, c *Config) *string {
	for _, s := range settings {
		s.bind(fs, c, s.name, s.usage+" ["+EnvName(s.name)+"]")
	}
	return fs.String("config", "", "configuration file of name = value lines [CLIENTAREA_CONFIG]")
}

// Load parses args into a Config: flags win over the environment, which
// wins over the file named by --config or CLIENTAREA_CONFIG. getenv is
// os.Getenv in production and a map in tests.
func Load(fs *flag.FlagSet, args []string, getenv func(string) string) (Config, error) {
	c := Defaults()
	file := Flags(fs, &c)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	path := *file
	if path == "" {
		path = getenv("CLIENTAREA_CONFIG")
	}
	if path != "" {
		values, err := readFile(path)
		if err != nil {
			return c, err
		}
		if err := apply(fs, set, values, "in "+path); err != nil {
			return c, err
		}
	}
	env := map[string]string{}
	for _, s := range settings {
		if v := getenv(EnvName(s.name)); v != "" {
			env[s.name] = v
		}
	}
	if err := apply(fs, set, env, "from the environment"); err != nil {
		return c, err
	}
	c.SecretKey = getenv("CLIENTAREA_SECRET_KEY")
	return c, c.Validate()
}

// apply sets values the command line did not set. Sources are applied from
// the weakest (file) to the strongest (environment), each overwriting.
func apply(fs *flag.FlagSet, fromFlags map[string]bool, values map[string]string, where string) error {
	for name, v := range values {
		if fromFlags[name] {
			continue
		}
		if fs.Lookup(name) == nil {
			return fmt.Errorf("config: unknown setting %q %s", name, where)
		}
		if err := fs.Set(name, v); err != nil {
			return fmt.Errorf("config: %s = %q %s: %w (see docs/configuration.md)", name, v,
				where, err)
		}
	}
	return nil
}

// readFile reads "name = value" lines; # starts a comment line.
func readFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	values := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("config: %s:%d: want name = value", path, n)
		}
		value = strings.TrimSpace(value)
		if uq, err := strconv.Unquote(value); err == nil {
			value = uq
		}
		values[strings.TrimSpace(name)] = value
	}
	return values, sc.Err()
}

// Validate checks settings that flag parsing cannot.
func (c *Config) Validate() error {
	var errs []error
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("log-format must be text or json, not %q", c.LogFormat))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log-level must be debug, info, warn or error"))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("tls-cert and tls-key go together"))
	}
	if c.HashMemoryKiB < 8 || c.HashIterations < 1 || c.HashLanes < 1 || c.HashLanes > 255 {
		errs = append(errs, errors.New("hash-memory, hash-iterations and hash-lanes are too low"))
	}
	if c.MemoryLimitMiB < 0 || c.MemoryLimitMiB > 1<<20 {
		errs = append(errs, errors.New("memory-limit must be from 0 to 1048576 MiB"))
	}
	if c.DBMaxConns < 1 {
		errs = append(errs, errors.New("db-max-conns must be at least 1"))
	}
	if c.Data == "" {
		errs = append(errs, errors.New("data must name a folder"))
	}
	if strings.TrimSpace(c.Issuer) == "" {
		errs = append(errs, errors.New("issuer must not be empty"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("config: %w", errors.Join(errs...))
	}
	return nil
}

// DatabaseDSN is the database to open: the URL, or the SQLite file in Data.
func (c *Config) DatabaseDSN() string {
	if c.DatabaseURL != "" {
		return c.DatabaseURL
	}
	return filepath.Join(c.Data, "clientarea.db")
}

// From is MailFrom, or the issuer's name at no-reply@localhost.
func (c *Config) From() string {
	if c.MailFrom != "" {
		return c.MailFrom
	}
	return (&mail.Address{Name: c.Issuer, Address: "no-reply@localhost"}).String()
}

// PublicURL is BaseURL, or an address derived from Addr.
func (c *Config) PublicURL() string {
	if c.BaseURL != "" {
		return strings.TrimRight(c.BaseURL, "/")
	}
	scheme := "http"
	if c.TLSCert != "" {
		scheme = "https"
	}
	return scheme + "://" + c.Addr
}
