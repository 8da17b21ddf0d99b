package main

import (
	"slices"
	"testing"
	"time"

	"github.com/clientarea/clientarea/internal/loadtest"
)

// TestBudgetMemoryUnits checks the memory lines in the budget's own unit,
// megabytes of 10^6 bytes: 195 MiB is 204.5 MB and must miss the 200 MB
// line, and 29 MiB is 30.4 MB and must miss the 30 MB line, although
// both are below the line counted in MiB.
func TestBudgetMemoryUnits(t *testing.T) {
	tests := []struct {
		name  string
		lines []budgetLine
		want  bool
	}{
		{"flood 190 MiB", floodBudget(&loadtest.FloodResult{PeakRSS: 190 << 20}), true},
		{"flood 195 MiB", floodBudget(&loadtest.FloodResult{PeakRSS: 195 << 20}), false},
		{"idle 28 MiB", startBudget([]startFigures{{IdleRSS: 28 << 20}}), true},
		{"idle 29 MiB", startBudget([]startFigures{{IdleRSS: 29 << 20}}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := tt.lines[0]
			if line.Holds != tt.want {
				t.Errorf("%s: got %s, holds %v; want holds %v", line.Line, line.Got, line.Holds,
					tt.want)
			}
		})
	}
}

// TestSigninBudget checks the sign-in line against the floor as the budget
// states it, one hash in the bench's own process, and the stricter line
// against a faster worker, which is beyond the budget, with the figures of a PostgreSQL run of
// docs/benchmarks.md: 82.7 sign-ins/s is 87.0% of 95.1/s and 71.7% of
// 115.3/s.
func TestSigninBudget(t *testing.T) {
	inProcess := hashFigures{Way: inProcessWay, PerSecond: 95.1, ParallelPerSecond: 60.3}
	worker := hashFigures{Way: "in a hash worker", PerSecond: 115.3, ParallelPerSecond: 106.5}
	type verdict struct {
		line          string
		holds, beyond bool
	}
	tests := []struct {
		name      string
		perSecond float64
		floor     floorFigures
		want      []verdict
	}{
		{"worker faster", 82.7, floorFigures{hashFigures: worker,
			Ways: []hashFigures{inProcess, worker}},
			[]verdict{{"full sign-in throughput", true, false},
				{"full sign-in against the faster floor", false, true}}},
		{"worker faster, both miss", 80.0, floorFigures{hashFigures: worker,
			Ways: []hashFigures{inProcess, worker}},
			[]verdict{{"full sign-in throughput", false, false},
				{"full sign-in against the faster floor", false, true}}},
		{"worker faster, both hold", 100.0, floorFigures{hashFigures: worker,
			Ways: []hashFigures{inProcess, worker}},
			[]verdict{{"full sign-in throughput", true, false},
				{"full sign-in against the faster floor", true, true}}},
		// The in-process hash was the faster: it is the only floor, so one line.
		{"in-process faster", 80.0, floorFigures{hashFigures: inProcess,
			Ways: []hashFigures{inProcess, {Way: "in a hash worker", PerSecond: 90}}},
			[]verdict{{"full sign-in throughput", false, false}}},
		// A worker failed and left the floor: the in-process line alone.
		{"worker failed", 82.7, floorFigures{hashFigures: inProcess,
			Ways: []hashFigures{inProcess}},
			[]verdict{{"full sign-in throughput", true, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := signinBudget(tt.perSecond, &tt.floor)
			var got []verdict
			for _, l := range lines {
				got = append(got, verdict{l.Line, l.Holds, l.Beyond})
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	lines := signinBudget(82.7, &floorFigures{hashFigures: worker,
		Ways: []hashFigures{inProcess, worker}})
	for i, want := range []string{"87.0% (82.7/s of 95.1/s, one hash in this process)",
		"71.7% (82.7/s of 115.3/s, one hash in a hash worker; 78% of 106.5/s " +
			"with all cores hashing)"} {
		if lines[i].Got != want {
			t.Errorf("line %d: got %q, want %q", i, lines[i].Got, want)
		}
	}
}

// TestSecondFactorBudgetBySQLite checks that the second-factor lines, which
// the budget sets for SQLite, are judged as the budget's on SQLite and
// apart from it on PostgreSQL, with the same verdicts either way.
func TestSecondFactorBudgetBySQLite(t *testing.T) {
	sf := loadFigures{Result: loadtest.Result{Concurrency: 8, PerSecond: 2086,
		ServerCPUEach:   loadtest.Millis(344 * time.Microsecond),
		DatabaseCPUEach: loadtest.Millis(419 * time.Microsecond),
		Latency:         loadtest.Summary{P99: loadtest.Millis(8390 * time.Microsecond)}}}
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			lines := budget(benchReport{Database: db, SecondFactor: []loadFigures{sf}})
			want := map[string]bool{"second factor at concurrency 8 (set for SQLite)": false,
				"second factor p99 at concurrency 8":                true,
				"server CPU per verification (with the database's)": false}
			if len(lines) != len(want) {
				t.Fatalf("got %d lines, want %d: %+v", len(lines), len(want), lines)
			}
			for _, l := range lines {
				holds, ok := want[l.Line]
				if !ok || l.Holds != holds || l.Beyond != (db == "postgres") {
					t.Errorf("%s: holds %v, beyond %v; want holds %v, beyond %v", l.Line,
						l.Holds, l.Beyond, holds, db == "postgres")
				}
			}
		})
	}
}
