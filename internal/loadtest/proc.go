package loadtest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of the CPU times in /proc/PID/stat. Linux fixes
// USER_HZ at 100 for every program on every architecture it runs on.
const clockTick = 10 * time.Millisecond

// ProcStat is a process's memory and CPU use, from /proc.
type ProcStat struct {
	// RSS is the resident set now, PeakRSS the most it has been since the
	// process started or its peak was last reset (VmRSS, VmHWM).
	RSS, PeakRSS int64
	// FileRSS is the part of RSS that maps files (RssFile): the program's
	// own code, which processes running the same binary share.
	FileRSS int64
	// CPU is user plus system time, to the nearest 10 ms.
	CPU time.Duration
}

// ReadProc reads the ProcStat of process pid.
func ReadProc(pid int) (ProcStat, error) {
	status, stat, err := readProcFiles(pid)
	if err != nil {
		return ProcStat{}, err
	}
	return parseProc(status, stat)
}

func readProcFiles(pid int) (status, stat []byte, err error) {
	status, err = os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, nil, fmt.Errorf("loadtest: read process status: %w", err)
	}
	stat, err = os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, nil, fmt.Errorf("loadtest: read process stat: %w", err)
	}
	return status, stat, nil
}

func parseProc(status, stat []byte) (ProcStat, error) {
	var p ProcStat
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "VmRSS" && name != "VmHWM" && name != "RssFile") {
			continue
		}
		kb, ok := strings.CutSuffix(strings.TrimSpace(value), " kB")
		n, err := strconv.ParseInt(kb, 10, 64)
		if !ok || err != nil {
			return p, fmt.Errorf("loadtest: process status: bad %s", name)
		}
		switch name {
		case "VmRSS":
			p.RSS = n << 10
		case "VmHWM":
			p.PeakRSS = n << 10
		default:
			p.FileRSS = n << 10
		}
	}
	_, cpu, err := parseStatCPU(stat)
	p.CPU = cpu
	return p, err
}

// ReadProcTree reads the ProcStat of process pid and of its descendants,
// such as a server and its password-hashing workers, added up: resident
// sets, peaks (the sum of the peaks, which is at least the peak of the
// sum), and CPU time, with that of descendants that have ended and been
// waited for. A descendant's file-mapped pages are left out of its
// memory: they are the code of the binary it shares with pid, whose own
// RSS counts them once (for a worker of clientarea, 13 of its 35 MB).
// Their current count is taken from the peak too, an approximation that
// holds while they do not change, as a worker's code does not once it
// runs. A process that ends while the tree is read is left out, and one
// that starts meanwhile may be.
func ReadProcTree(pid int) (ProcStat, error) {
	status, stat, err := readProcFiles(pid)
	if err != nil {
		return ProcStat{}, err
	}
	p, err := parseProc(status, stat)
	if err != nil {
		return p, err
	}
	ended, err := parseStatChildrenCPU(stat)
	if err != nil {
		return p, err
	}
	p.CPU += ended
	for _, child := range children(pid) {
		c, err := ReadProcTree(child)
		if err != nil {
			continue // it ended meanwhile
		}
		p.RSS += max(c.RSS-c.FileRSS, 0)
		p.PeakRSS += max(c.PeakRSS-c.FileRSS, 0)
		p.CPU += c.CPU
	}
	return p, nil
}

// ResetPeakTree resets the peak RSS of process pid and its descendants. A
// descendant that ended meanwhile is no failure: it has no peak to count.
func ResetPeakTree(pid int) error {
	errs := []error{ResetPeak(pid)}
	for _, child := range children(pid) {
		if err := ResetPeakTree(child); err != nil && processExists(child) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func processExists(pid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return err == nil
}

// children lists the child processes of pid, from every one of its
// threads (Linux 3.5 and later with CONFIG_PROC_CHILDREN).
func children(pid int) []int {
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, field := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(field); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// parseStatChildrenCPU reads the user plus system time of the children
// that a process has waited for (cutime and cstime) from its
// /proc/PID/stat line.
func parseStatChildrenCPU(stat []byte) (time.Duration, error) {
	_, d, err := statTimes(stat, 16)
	return d, err
}

// parseStatCPU reads the command name and user plus system time (utime and
// stime) of a /proc/PID/stat line.
func parseStatCPU(stat []byte) (comm string, cpu time.Duration, err error) {
	return statTimes(stat, 14)
}

// statTimes reads the command name of a /proc/PID/stat line and the sum of
// the two clock-tick fields that start at field number first of the whole
// line.
func statTimes(stat []byte, first int) (comm string, d time.Duration, err error) {
	// The command name in parentheses may hold spaces and parentheses of
	// its own; the fields are counted from the last ")".
	start, end := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
	if start < 0 || end < start {
		return "", 0, fmt.Errorf("loadtest: process stat: no command name")
	}
	fields := strings.Fields(string(stat[end+1:]))
	i := first - 3 // what follows the name starts at field 3 (state)
	if len(fields) < i+2 {
		return "", 0, fmt.Errorf("loadtest: process stat: %d fields, want %d or more",
			len(fields)+2, first+1)
	}
	a, err1 := strconv.ParseInt(fields[i], 10, 64)
	b, err2 := strconv.ParseInt(fields[i+1], 10, 64)
	if err1 != nil || err2 != nil {
		return "", 0, fmt.Errorf("loadtest: process stat: bad CPU times")
	}
	return string(stat[start+1 : end]), time.Duration(a+b) * clockTick, nil
}

// ResetPeak resets the process's peak RSS to its current RSS, so that a
// later PeakRSS covers only what came after (Linux 4.0 and later).
func ResetPeak(pid int) error {
	err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
	if err != nil {
		return fmt.Errorf("loadtest: reset peak RSS: %w", err)
	}
	return nil
}

// MachineCPU is the CPU time all processes of the machine have used since
// it started, summed over its cores: user, nice, system and interrupt
// time from the first line of /proc/stat.
func MachineCPU() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, fmt.Errorf("loadtest: read /proc/stat: %w", err)
	}
	return parseMachineCPU(b)
}

func parseMachineCPU(stat []byte) (time.Duration, error) {
	line, _, _ := bytes.Cut(stat, []byte("\n"))
	fields := strings.Fields(string(line))
	// cpu user nice system idle iowait irq softirq ...
	if len(fields) < 8 || fields[0] != "cpu" {
		return 0, fmt.Errorf("loadtest: /proc/stat: no cpu line")
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7} {
		n, err := strconv.ParseInt(fields[i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("loadtest: /proc/stat: bad cpu field %d", i)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}

// ProcessTimes are the CPU times of a set of processes, by process id.
type ProcessTimes map[int]time.Duration

// Since is the CPU time the processes used after the earlier reading:
// what each process present in both used in between, plus all that
// processes started meanwhile used. Processes that ended meanwhile are
// left out, so the result is a lower bound.
func (after ProcessTimes) Since(before ProcessTimes) time.Duration {
	var d time.Duration
	for pid, cpu := range after {
		d += cpu - before[pid]
	}
	return d
}

// CommandCPU reads the CPU times of every process whose command name is
// name, such as "postgres" for a database server's processes.
func CommandCPU(name string) (ProcessTimes, error) {
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("loadtest: list processes: %w", err)
	}
	out := ProcessTimes{}
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue // the process ended meanwhile
		}
		if comm, cpu, err := parseStatCPU(stat); err == nil && comm == name {
			out[pid] = cpu
		}
	}
	return out, nil
}
