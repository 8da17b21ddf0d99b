package main

import (
	"testing"

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
