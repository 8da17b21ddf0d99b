package storetest

import (
	"syscall"
	"testing"
	"time"
)

// CPUClock measures the CPU time the benchmark's process uses, garbage
// collection included, and on SQLite the database's work too. Unlike ns/op
// it does not grow when other programs compete for the machine, so runs on
// a shared machine compare. On PostgreSQL the server's work is in another
// process and not counted.
type CPUClock struct {
	b     *testing.B
	start time.Duration
}

// StartCPU resets the benchmark timer and starts measuring.
func StartCPU(b *testing.B) CPUClock {
	b.Helper()
	b.ResetTimer()
	return CPUClock{b: b, start: processCPU(b)}
}

// Report adds the CPU time per iteration as the metric cpu-ns/op.
func (c CPUClock) Report() {
	c.b.Helper()
	used := processCPU(c.b) - c.start
	c.b.ReportMetric(float64(used.Nanoseconds())/float64(c.b.N), "cpu-ns/op")
}

func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
