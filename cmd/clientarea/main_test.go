package main

import (
	"os"
	"testing"
)

// TestMain lets the test binary serve as the server's password-hashing
// worker: the servers these tests run in-process start their workers from
// os.Executable, which is this binary.
func TestMain(m *testing.M) {
	if isHashWorker(os.Args) {
		os.Exit(hashWorker())
	}
	// A binary built with -race sleeps a second before it exits, by default, to let late
	// reports in; the workers these tests start would each make Close wait that second.
	if _, set := os.LookupEnv("GORACE"); !set {
		os.Setenv("GORACE", "atexit_sleep_ms=0")
	}
	os.Exit(m.Run())
}
