package loadtest

import (
	"bufio"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// holdArg makes the test binary a child that holds holdBytes of touched
// memory until its input closes.
const (
	holdArg   = "loadtest-hold-memory"
	holdBytes = 32 << 20
)

func TestMain(m *testing.M) {
	if len(os.Args) == 2 && os.Args[1] == holdArg {
		b := make([]byte, holdBytes)
		for i := range b {
			b[i] = 1
		}
		// And some CPU time, so that the parent's check of it can fail.
		var ru syscall.Rusage
		for ru.Utime.Nano()+ru.Stime.Nano() < int64(150*time.Millisecond) {
			for i := range b {
				b[i]++
			}
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		}
		b[len(b)-1] = 1
		os.Stdout.WriteString("ready\n")
		bufio.NewReader(os.Stdin).ReadString('\n') // until the parent closes it
		os.Exit(int(b[len(b)-1]) - 1)
	}
	os.Exit(m.Run())
}

func TestParseStatChildrenCPU(t *testing.T) {
	stat := []byte("4242 (client) area) S 1 4242 4242 0 -1 4194560 900 0 0 0 " +
		"250 37 40 2 20 0 7 0 12345 1334116352 5120 18446744073709551615")
	if got, err := parseStatChildrenCPU(stat); err != nil || got != 420*time.Millisecond {
		t.Errorf("parseStatChildrenCPU: got %v, %v; want 420ms", got, err)
	}
	if _, err := parseStatChildrenCPU([]byte("4242 (x) S 1 2 3")); err == nil {
		t.Error("parseStatChildrenCPU of a short line: got no error")
	}
}

// TestReadProcTree starts a child that holds 32 MiB and checks that the
// tree of this process counts it. Peaks only grow, so the tree's peak read
// after this process's own must be at least that plus the child's 32 MiB.
func TestReadProcTree(t *testing.T) {
	if _, err := os.Stat("/proc/self/task"); err != nil {
		t.Skip("needs Linux's /proc")
	}
	cmd := exec.Command(os.Args[0], holdArg)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		in.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("child: %v", err)
		}
	}()
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("child: %q, %v", line, err)
	}

	child, err := ReadProc(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	self, err := ReadProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	tree, err := ReadProcTree(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if child.PeakRSS < holdBytes {
		t.Fatalf("child's peak RSS %d, want at least %d", child.PeakRSS, holdBytes)
	}
	// The child's file-mapped pages are left out, but its 32 MiB are its own.
	if tree.PeakRSS < self.PeakRSS+holdBytes {
		t.Errorf("tree's peak RSS %d < own %d + the child's %d", tree.PeakRSS, self.PeakRSS,
			holdBytes)
	}
	if child.CPU < 100*time.Millisecond {
		t.Fatalf("child's CPU %v, want at least 100ms", child.CPU)
	}
	if tree.CPU < self.CPU+child.CPU {
		t.Errorf("tree's CPU %v < own %v + child's %v", tree.CPU, self.CPU, child.CPU)
	}
}
