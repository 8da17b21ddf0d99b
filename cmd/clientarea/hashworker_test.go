package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// hashWorkers lists the processes this test process started as password
// hashing workers, by their command lines in /proc.
func hashWorkers(t *testing.T) []int {
	t.Helper()
	files, err := filepath.Glob("/proc/self/task/*/children")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // the thread ended meanwhile
		}
		for _, field := range strings.Fields(string(b)) {
			pid, err := strconv.Atoi(field)
			if err != nil {
				t.Fatalf("%s: %q", f, b)
			}
			cmdline, err := os.ReadFile("/proc/" + field + "/cmdline")
			args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
			if err == nil && isHashWorker(args) {
				pids = append(pids, pid)
			}
		}
	}
	slices.Sort(pids)
	return slices.Compact(pids)
}

// TestHashWorkers signs a customer up and in through a server with the
// default settings and checks that the hashes ran in worker processes of
// the server, which end when it stops; with --hash-workers=false none is
// started.
func TestHashWorkers(t *testing.T) {
	if files, _ := filepath.Glob("/proc/self/task/*/children"); len(files) == 0 {
		t.Skip("needs Linux's /proc/PID/task/TID/children")
	}
	t.Setenv("CLIENTAREA_TEST_SECRET", "must not reach a worker")
	var workers []int
	t.Run("serve", func(t *testing.T) {
		ts := startServer(t, nil, nil)
		c := ts.client(t)
		c.must(201, "POST", "/api/v1/signup", map[string]string{"email": alice, "password": alicePW})
		c.must(200, "POST", "/api/v1/login", map[string]string{"email": alice, "password": alicePW})
		workers = hashWorkers(t)
		if len(workers) == 0 {
			t.Fatal("no hash-worker process is running after a sign-up and a sign-in")
		}
		if logs := ts.Logs.String(); strings.Contains(logs, "password worker failed") {
			t.Errorf("a worker failed:\n%s", logs)
		}
		for _, pid := range workers {
			environ, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
			if err == nil && strings.Contains(string(environ), "CLIENTAREA_") {
				t.Errorf("worker %d has the server's settings in its environment: %q", pid,
					environ)
			}
		}
	})
	for _, pid := range workers {
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil {
			t.Errorf("worker %d still exists after the server stopped", pid)
		}
	}

	t.Run("off", func(t *testing.T) {
		ts := startServer(t, nil, nil, "--hash-workers=false")
		c := ts.client(t)
		c.must(201, "POST", "/api/v1/signup", map[string]string{"email": alice, "password": alicePW})
		if got := hashWorkers(t); len(got) != 0 {
			t.Errorf("hash-worker processes %v with --hash-workers=false", got)
		}
	})
}
