// Command clientarea is a self-hosted customer client area with TOTP
// two-factor sign-in: one binary that serves the pages and the JSON API and
// carries the operator's tools. Run `clientarea help` for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/clientarea/clientarea/internal/password"
)

func main() {
	if isHashWorker(os.Args) {
		os.Exit(hashWorker())
	}
	os.Exit(mainCode())
}

// hashWorkerCommand is the command line word that makes the binary a
// password-hashing worker of a server (password.WithWorkers, and
// --hash-workers in docs/configuration.md). It is not in the help: the
// server starts its workers itself, and a worker only reads requests from
// its standard input.
const hashWorkerCommand = "hash-worker"

func isHashWorker(args []string) bool {
	return len(args) == 2 && args[1] == hashWorkerCommand
}

// hashWorker serves hash requests until the server closes its input. It
// runs before anything else in main, so that it neither writes the
// server's CPU profile nor reads its configuration.
//
// It ignores the signals that stop a server: systemd sends SIGTERM to every
// process of the service and a terminal sends SIGINT to the whole group,
// but a worker should finish the hash in hand and leave when the server,
// shutting down, closes its input.
func hashWorker() int {
	signal.Ignore(os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	if err := password.ServeWorker(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "clientarea hash-worker:", err)
		return 1
	}
	return 0
}

func mainCode() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if path := os.Getenv(profileEnv); path != "" {
		stopProfile, err := startProfile(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "clientarea:", err)
			return 1
		}
		defer stopProfile()
	}
	return run(ctx, os.Args[1:], sys{getenv: os.Getenv, stdin: os.Stdin, stdout: os.Stdout,
		stderr: os.Stderr})
}

// sys is what the program takes from its surroundings. Tests give their
// own, with a clock they move.
type sys struct {
	getenv         func(string) string
	stdin          io.Reader
	stdout, stderr io.Writer
	now            func() time.Time
	// ready, if set, receives the server's address once it listens.
	ready func(addr string)
}

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, s sys) error
}

func commands() []command {
	return []command{
		{"serve", "run the server", serve},
		{"migrate", migrateSummary, migrate},
		{"admin", "support and operator tools (create-user, reset-2fa, rotate-key, backup, migrate-to)", admin},
		{"version", "print the version", printVersion},
		{"bench", "measure a server under load (docs/benchmarks.md)", bench},
	}
}

// errUsage marks a command line that is wrong; the usage was printed.
var errUsage = errors.New("usage")

// run carries out one command line and returns the process exit code.
func run(ctx context.Context, args []string, s sys) int {
	if s.now == nil {
		s.now = time.Now
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(s.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], s)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		}
		fmt.Fprintf(s.stderr, "clientarea %s: %v\n", c.name, err)
		return 1
	}
	fmt.Fprintf(s.stderr, "clientarea: unknown command %q\n", args[0])
	usage(s.stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: clientarea COMMAND [flags]   (clientarea COMMAND --help for its flags)")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
}

// flagSet makes a FlagSet whose errors and help go to stderr and whose
// parse errors come back as errors instead of exiting.
func flagSet(name string, s sys) *flag.FlagSet {
	fs := flag.NewFlagSet("clientarea "+name, flag.ContinueOnError)
	fs.SetOutput(s.stderr)
	return fs
}
