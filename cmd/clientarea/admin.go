package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/clientarea/clientarea/internal/auth"
	"github.com/clientarea/clientarea/internal/config"
	"github.com/clientarea/clientarea/internal/seal"
	"github.com/clientarea/clientarea/internal/store"
)

type adminCommand struct {
	name, summary string
	// flags adds the command's own flags. run gets the opened app; check,
	// when there is one, looks at the input first, so that a mistake in it
	// opens, and so creates, nothing.
	flags func(fs *flag.FlagSet) (run func(ctx context.Context, a *app, s sys) error,
		check func(s sys) error)
	// required are flags that must not be empty, checked before the
	// installation is opened, so that a forgotten one creates nothing.
	required []string
}

func adminCommands() []adminCommand {
	return []adminCommand{
		{"create-user", "create an account (password from standard input)", createUser,
			[]string{"email"}},
		{"reset-2fa", "turn off a customer's 2FA after verifying their identity", reset2FA,
			[]string{"email", "reason"}},
		{"rotate-key", "re-encrypt every secret under a new sealing key", rotateKey, nil},
		{"backup", "write a consistent copy of the SQLite database", backup, []string{"to"}},
		{"migrate-to", "copy everything into an empty PostgreSQL database", migrateTo,
			[]string{"to"}},
	}
}

func admin(ctx context.Context, args []string, s sys) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(s.stderr, "Usage: clientarea admin COMMAND [flags]\n\nCommands:")
		for _, c := range adminCommands() {
			fmt.Fprintf(s.stderr, "  %-12s %s\n", c.name, c.summary)
		}
		if len(args) == 0 {
			return errUsage
		}
		return flag.ErrHelp
	}
	for _, c := range adminCommands() {
		if c.name != args[0] {
			continue
		}
		fs := flagSet("admin "+c.name, s)
		do, check := c.flags(fs)
		own := map[string]bool{}
		fs.VisitAll(func(f *flag.Flag) { own[f.Name] = true })
		fs.Usage = func() { commandUsage(fs, "admin "+c.name, c.summary, own, s.stderr) }
		cfg, err := config.Load(fs, args[1:], s.getenv)
		if err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return fmt.Errorf("unexpected argument %q", fs.Arg(0))
		}
		for _, name := range c.required {
			if fs.Lookup(name).Value.String() == "" {
				return fmt.Errorf("--%s is required", name)
			}
		}
		if check != nil {
			if err := check(s); err != nil {
				return err
			}
		}
		warnNewInstall(cfg, s)
		a, err := openApp(ctx, cfg, s)
		if err != nil {
			return err
		}
		defer a.Close()
		return do(ctx, a, s)
	}
	return fmt.Errorf("unknown admin command %q", args[0])
}

// installSettings are the settings of serve that the help of a command
// other than serve lists beside its own flags: those that say which
// installation it works on.
var installSettings = map[string]bool{"data": true, "database-url": true, "config": true}

// commandUsage prints a command's own flags and installSettings. The
// command accepts every setting of serve, since it opens the installation
// as the server does, but listing all of them buried its own few.
func commandUsage(fs *flag.FlagSet, name, summary string, own map[string]bool, w io.Writer) {
	fmt.Fprintf(w, "Usage: clientarea %s [flags]\n\n%s.\n\nFlags:\n", name,
		strings.ToUpper(summary[:1])+summary[1:])
	show := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
	show.SetOutput(w)
	fs.VisitAll(func(f *flag.Flag) {
		if own[f.Name] || installSettings[f.Name] {
			show.Var(f.Value, f.Name, f.Usage)
			show.Lookup(f.Name).DefValue = f.DefValue
		}
	})
	show.PrintDefaults()
	fmt.Fprintln(w, "\nEvery other setting of `clientarea serve` is read as serve reads it, "+
		"from flags,\nCLIENTAREA_ variables or the --config file; `clientarea serve --help` lists them.")
}

func createUser(fs *flag.FlagSet) (func(context.Context, *app, sys) error, func(sys) error) {
	email := fs.String("email", "", "e-mail address of the new account (required)")
	isAdmin := fs.Bool("admin", false, "make a member of support staff")
	var pw string
	check := func(s sys) error {
		if _, err := auth.NormalizeEmail(*email); err != nil {
			return userError(err)
		}
		var err error
		if pw, err = readPassword(s); err != nil {
			return err
		}
		return userError(auth.CheckPassword(pw))
	}
	return func(ctx context.Context, a *app, s sys) error {
		role := auth.RoleCustomer
		if *isAdmin {
			role = auth.RoleAdmin
		}
		acct, err := a.svc.CreateAccount(ctx, *email, pw, role)
		if err != nil {
			return userError(err)
		}
		fmt.Fprintf(s.stdout, "created %s account %s\n", acct.Role, acct.Email)
		if *isAdmin {
			fmt.Fprintln(s.stdout, "support staff must turn on 2FA before the admin pages open")
		}
		return nil
	}, check
}

// readPassword takes the first line of standard input, so that the
// password never appears in the process list or shell history.
func readPassword(s sys) (string, error) {
	line, err := bufio.NewReader(s.stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("give the password on standard input")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func reset2FA(fs *flag.FlagSet) (func(context.Context, *app, sys) error, func(sys) error) {
	email := fs.String("email", "", "the customer's e-mail address (required)")
	reason := fs.String("reason", "", "how the customer's identity was verified (required)")
	operator := fs.String("operator", "", "who resets (default: the system user)")
	return func(ctx context.Context, a *app, s sys) error {
		who := *operator
		if who == "" {
			who = systemUser()
		}
		err := a.svc.ResetTwoFactor(ctx, *email, *reason, who, auth.Meta{})
		if err != nil {
			return userError(err)
		}
		fmt.Fprintf(s.stdout, "2FA of %s was reset by %s; the customer was e-mailed\n",
			strings.ToLower(strings.TrimSpace(*email)), who)
		return nil
	}, nil
}

func systemUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if n := os.Getenv("USER"); n != "" {
		return n
	}
	return "operator"
}

// userError turns a domain error into its customer-safe message; other
// errors keep their cause, which is for the operator's eyes.
func userError(err error) error {
	var e *auth.Error
	if errors.As(err, &e) && e.Code != auth.CodeInternal {
		return errors.New(e.Message)
	}
	return err
}

func backup(fs *flag.FlagSet) (func(context.Context, *app, sys) error, func(sys) error) {
	to := fs.String("to", "", "file to write (must not exist; required)")
	return func(ctx context.Context, a *app, s sys) error {
		if _, err := os.Stat(*to); err == nil {
			return fmt.Errorf("%s exists; choose a new file", *to)
		}
		if err := a.store.Backup(ctx, *to); err != nil {
			return err
		}
		fmt.Fprintf(s.stdout, "backup written to %s (the sealing key is not in it: keep %s too)\n",
			*to, keyFilePath(a.cfg))
		return nil
	}, nil
}

func migrateTo(fs *flag.FlagSet) (func(context.Context, *app, sys) error, func(sys) error) {
	var target string
	fs.StringVar(&target, "to", "", "postgres:// URL of the empty target database")
	return func(ctx context.Context, a *app, s sys) error {
		if !store.IsPostgresURL(target) {
			return errors.New("--to must be a postgres:// URL")
		}
		dst, err := store.Open(ctx, target, store.Options{})
		if err != nil {
			return err
		}
		defer dst.Close()
		if err := dst.Migrate(ctx); err != nil {
			return err
		}
		if err := a.store.CopyTo(ctx, dst); err != nil {
			return err
		}
		fmt.Fprintln(s.stdout, "copied; start every instance with --database-url set to the "+
			"target and CLIENTAREA_SECRET_KEY set to the key in "+keyFilePath(a.cfg))
		return nil
	}, nil
}

const migrateSummary = "bring the database schema up to date and exit"

func migrate(ctx context.Context, args []string, s sys) error {
	fs := flagSet("migrate", s)
	fs.Usage = func() { commandUsage(fs, "migrate", migrateSummary, nil, s.stderr) }
	cfg, err := config.Load(fs, args, s.getenv)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, cfg.DatabaseDSN(), store.Options{MaxConns: cfg.DBMaxConns})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	v, _, err := st.SchemaStatus(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.stdout, "database schema is at version %d\n", v)
	return nil
}

// rotateKey re-encrypts every sealed secret under a new primary key. With
// a key file it makes the new key, writes it first in the file (running
// servers pick it up, see seal.FileKeyring), re-encrypts, and after a
// grace period and a second pass for anything sealed meanwhile with the
// old key, drops the old key. With CLIENTAREA_SECRET_KEY the operator has
// already put the new key first on every instance; this re-encrypts.
func rotateKey(fs *flag.FlagSet) (func(context.Context, *app, sys) error, func(sys) error) {
	grace := fs.Duration("grace", 5*time.Second, "time for running servers to see the new key")
	return func(ctx context.Context, a *app, s sys) error {
		fk, fromFile := a.keys.(*seal.FileKeyring)
		ring := a.keys.Keyring()
		if fromFile {
			next, err := seal.NewKey(nil)
			if err != nil {
				return err
			}
			keys := append([]seal.Key{next}, ring.Keys()...)
			if err := seal.WriteKeyFile(keyFilePath(a.cfg), keys); err != nil {
				return err
			}
			if err := fk.Reload(); err != nil {
				return err
			}
			ring = fk.Keyring()
		}
		n, err := reseal(ctx, a.store, ring)
		if err != nil {
			return err
		}
		old, _ := a.store.Setting(ctx, keyCheckSetting)
		if _, err := a.store.PutSetting(ctx, keyCheckSetting, old, ring.Primary().ID()); err != nil {
			return err
		}
		if fromFile {
			time.Sleep(*grace)
			m, err := reseal(ctx, a.store, ring)
			if err != nil {
				return err
			}
			n += m
			if err := seal.WriteKeyFile(keyFilePath(a.cfg), ring.Keys()[:1]); err != nil {
				return err
			}
		}
		fmt.Fprintf(s.stdout, "re-encrypted secrets: %d, now under key %s\n", n, ring.Primary().ID())
		return nil
	}, nil
}

// reseal re-encrypts every credential not yet under ring's primary key.
func reseal(ctx context.Context, st *store.Store, ring *seal.Keyring) (int, error) {
	count := 0
	var after int64
	for {
		creds, err := st.SealedSecrets(ctx, after, 200)
		if err != nil || len(creds) == 0 {
			return count, err
		}
		for _, c := range creds {
			after = c.ID
			ok, err := resealOne(ctx, st, ring, c)
			if err != nil {
				return count, err
			}
			if ok {
				count++
			}
		}
	}
}

func resealOne(ctx context.Context, st *store.Store, ring *seal.Keyring, c auth.Credential) (bool, error) {
	if ring.SealedByPrimary(c.Secret) && (c.PendingCodes == nil || ring.SealedByPrimary(c.PendingCodes)) {
		return false, nil
	}
	secret, err := rewrap(ring, c.Secret, auth.SecretAD(c.AccountID))
	if err != nil {
		return false, err
	}
	var codes []byte
	if c.PendingCodes != nil {
		if codes, err = rewrap(ring, c.PendingCodes, auth.CodesAD(c.AccountID)); err != nil {
			return false, err
		}
	}
	// A credential changed meanwhile (activated, cancelled) is left; the
	// second pass or the change itself has sealed it with the new key.
	return st.ResealSecret(ctx, c.ID, c.Secret, secret, c.PendingCodes, codes)
}

func rewrap(ring *seal.Keyring, blob, ad []byte) ([]byte, error) {
	plain, err := ring.Open(blob, ad)
	if err != nil {
		return nil, fmt.Errorf("open a sealed secret: %w", err)
	}
	return ring.Seal(plain, ad)
}

// warnNewInstall says so when an admin command is about to create a new
// SQLite database, which is right for the first support account of a new
// install and wrong when the command was meant for an existing one and
// only missed its --data: the account would land in a database no server
// reads.
func warnNewInstall(cfg config.Config, s sys) {
	if cfg.DatabaseURL != "" {
		return
	}
	if _, err := os.Stat(cfg.DatabaseDSN()); errors.Is(err, fs.ErrNotExist) {
		hint := ""
		if cfg.Data == config.Defaults().Data {
			hint = " (pass --data for an existing one)"
		}
		fmt.Fprintf(s.stderr, "clientarea: no database in %s yet: creating a new install there%s\n",
			cfg.Data, hint)
	}
}
