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
	os.Exit(m.Run())
}
