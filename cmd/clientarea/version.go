package main

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/clientarea/clientarea/internal/metrics"
)

// Set at build time with -ldflags "-X main.version=... -X main.commit=...
// -X main.date=..."; otherwise read from the Go build information.
var version, commit, date string

func buildInfo() metrics.Build {
	b := metrics.Build{Version: version, Commit: commit, Date: date}
	if info, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" {
			b.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch {
			case s.Key == "vcs.revision" && b.Commit == "":
				b.Commit = s.Value
			case s.Key == "vcs.time" && b.Date == "":
				b.Date = s.Value
			}
		}
	}
	if b.Version == "" || b.Version == "(devel)" {
		b.Version = "devel"
	}
	return b
}

func printVersion(_ context.Context, args []string, s sys) error {
	fs := flagSet("version", s)
	if err := fs.Parse(args); err != nil {
		return err
	}
	b := buildInfo()
	fmt.Fprintf(s.stdout, "clientarea %s (commit %s, built %s)\n", b.Version, orUnknown(b.Commit),
		orUnknown(b.Date))
	return nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
