package loadtest

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseProc(t *testing.T) {
	status := []byte("Name:\tclientarea\nVmPeak:\t 1300000 kB\nVmHWM:\t   40960 kB\n" +
		"VmRSS:\t   20480 kB\nRssAnon:\t   12288 kB\nRssFile:\t    8192 kB\nThreads:\t7\n")
	// A command name with a space and a parenthesis, as /proc writes it.
	stat := []byte("4242 (client) area) S 1 4242 4242 0 -1 4194560 900 0 0 0 " +
		"250 37 0 0 20 0 7 0 12345 1334116352 5120 18446744073709551615")
	got, err := parseProc(status, stat)
	want := ProcStat{RSS: 20480 << 10, PeakRSS: 40960 << 10, FileRSS: 8192 << 10,
		CPU: 287 * 10 * time.Millisecond}
	if err != nil || got != want {
		t.Errorf("parseProc: got %+v, %v; want %+v", got, err, want)
	}
	if _, err := parseProc(status, []byte("4242 (x) S 1 2")); err == nil {
		t.Errorf("parseProc of a short stat line: got no error")
	}
	comm, cpu, err := parseStatCPU(stat)
	if err != nil || comm != "client) area" || cpu != 2870*time.Millisecond {
		t.Errorf("parseStatCPU: got %q, %v, %v; want \"client) area\", 2.87s", comm, cpu, err)
	}
}

func TestParseMachineCPU(t *testing.T) {
	stat := []byte("cpu  100 5 20 9000 7 3 2 11 0 0\ncpu0 50 2 10 4500 3 1 1 5 0 0\n")
	got, err := parseMachineCPU(stat)
	// user + nice + system + irq + softirq = 100 + 5 + 20 + 3 + 2 ticks.
	if want := 130 * 10 * time.Millisecond; err != nil || got != want {
		t.Errorf("parseMachineCPU: got %v, %v; want %v", got, err, want)
	}
}

func TestReadProcSelf(t *testing.T) {
	p, err := ReadProc(os.Getpid())
	if err != nil {
		t.Fatalf("ReadProc(self): %v", err)
	}
	if p.RSS <= 0 || p.PeakRSS < p.RSS {
		t.Errorf("ReadProc(self): got RSS %d, peak %d; want 0 < RSS <= peak", p.RSS, p.PeakRSS)
	}
}

func TestCommandCPU(t *testing.T) {
	got, err := CommandCPU("no such command 7")
	if err != nil || len(got) != 0 {
		t.Errorf("CommandCPU of an unknown name: got %v, %v; want none", got, err)
	}
	// This process, by the command name the kernel gives it.
	comm, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Skip("needs Linux's /proc")
	}
	got, err = CommandCPU(strings.TrimSpace(string(comm)))
	if _, ok := got[os.Getpid()]; err != nil || !ok {
		t.Errorf("CommandCPU(%q): got %v, %v; want this process, %d, among them",
			strings.TrimSpace(string(comm)), got, err, os.Getpid())
	}
}

func TestProcessTimesSince(t *testing.T) {
	s := time.Second
	before := ProcessTimes{1: 10 * s, 2: 5 * s, 3: 100 * s}
	// 1 used 2s, 2 ended, 3 used nothing, 4 started and used 1s.
	after := ProcessTimes{1: 12 * s, 3: 100 * s, 4: s}
	if got := after.Since(before); got != 3*s {
		t.Errorf("Since: got %v, want 3s", got)
	}
}
