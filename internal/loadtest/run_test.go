package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	var hundred []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose
		hundred = append(hundred, ms(i))
	}
	tests := []struct {
		name string
		in   []time.Duration
		want Summary
	}{
		{"none", nil, Summary{}},
		{"one", []time.Duration{ms(7)}, Summary{1, Millis(ms(7)), Millis(ms(7)),
			Millis(ms(7)), Millis(ms(7))}},
		{"1 to 100 ms", hundred, Summary{100, Millis(ms(50)), Millis(ms(90)), Millis(ms(99)),
			Millis(ms(100))}},
		{"ten", []time.Duration{ms(1), ms(2), ms(3), ms(4), ms(5), ms(6), ms(7), ms(8), ms(9),
			ms(10)}, Summary{10, Millis(ms(5)), Millis(ms(9)), Millis(ms(10)), Millis(ms(10))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Summarize(tt.in); got != tt.want {
				t.Errorf("Summarize: got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestMillisJSON(t *testing.T) {
	b, err := json.Marshal(Millis(1500 * time.Microsecond))
	if err != nil || string(b) != "1.500" {
		t.Errorf("Marshal(1.5ms): got %s, %v; want 1.500", b, err)
	}
	var m Millis
	if err := json.Unmarshal([]byte("29.881"), &m); err != nil ||
		time.Duration(m) != 29881*time.Microsecond {
		t.Errorf("Unmarshal(29.881): got %v, %v; want 29.881ms", time.Duration(m), err)
	}
	if err := json.Unmarshal([]byte(`"1"`), &m); err == nil {
		t.Errorf("Unmarshal of a string: got no error")
	}
}

func TestRunStopsAtRequests(t *testing.T) {
	var calls atomic.Int64
	l := Load{Concurrency: 4, Requests: 10, Duration: time.Minute}
	r := Run(t.Context(), l, time.Now, func(context.Context, int, int) Outcome {
		calls.Add(1)
		return Outcome{Status: 200}
	})
	if calls.Load() != 10 || r.Calls != 10 || r.OK != 10 || r.Statuses["200"] != 10 {
		t.Errorf("got %d calls, result %+v; want 10 calls, all 200", calls.Load(), r)
	}
	if r.Latency.Count != 10 || r.Concurrency != 4 {
		t.Errorf("got %d latencies at concurrency %d, want 10 at 4", r.Latency.Count,
			r.Concurrency)
	}
}

func TestRunStopsAtDuration(t *testing.T) {
	l := Load{Concurrency: 2, Requests: 1 << 30, Duration: 50 * time.Millisecond}
	r := Run(t.Context(), l, time.Now, func(ctx context.Context, _, _ int) Outcome {
		if err := Sleep(ctx, 5*time.Millisecond); err != nil {
			return Outcome{Err: err}
		}
		return Outcome{Status: 503}
	})
	if r.Calls == 0 || r.Calls >= 1<<30 || r.OK != 0 || r.Statuses["503"] != r.Calls {
		t.Errorf("got %+v; want some calls, all 503", r)
	}
	if got := r.Errors(200, 503); got != 0 {
		t.Errorf("Errors(200, 503): got %d, want 0", got)
	}
	if got := r.Errors(200); got != r.Calls {
		t.Errorf("Errors(200): got %d, want %d", got, r.Calls)
	}
}

func TestRunStopsWhenExhausted(t *testing.T) {
	l := Load{Concurrency: 3, Requests: 100, Duration: time.Minute}
	r := Run(t.Context(), l, time.Now, func(_ context.Context, _, call int) Outcome {
		switch {
		case call >= 5:
			return Outcome{Err: ErrExhausted}
		case call == 4:
			return Outcome{Err: errors.New("connection refused")}
		}
		return Outcome{Status: 401}
	})
	want := map[string]int{"401": 4, "transport": 1}
	if r.Calls != 5 || len(r.Statuses) != 2 || r.Statuses["401"] != want["401"] ||
		r.Statuses["transport"] != want["transport"] {
		t.Errorf("got %d calls, statuses %v; want 5 calls, %v", r.Calls, r.Statuses, want)
	}
}

// A call that waited for its account's next step is timed from the end of
// the wait: the wait is the load generator's, not the server's.
func TestRunLeavesWaitsOutOfLatency(t *testing.T) {
	now := time.Unix(1700000000, 0)
	clock := func() time.Time { return now } // Concurrency 1: no other goroutine moves it
	waits := []time.Duration{0, 28 * time.Second, 0}
	l := Load{Concurrency: 1, Requests: len(waits), Duration: time.Minute}
	r := Run(t.Context(), l, clock, func(_ context.Context, _, call int) Outcome {
		now = now.Add(waits[call] + 2*time.Millisecond)
		return Outcome{Status: 200, Waited: waits[call]}
	})
	if r.Calls != 3 || r.Waited != 1 {
		t.Fatalf("got %d calls, %d waited; want 3 calls, 1 waited", r.Calls, r.Waited)
	}
	if r.Latency.Max != Millis(2*time.Millisecond) {
		t.Errorf("slowest call: got %v, want 2ms, the wait left out", time.Duration(r.Latency.Max))
	}
	if want := Millis(28*time.Second + 6*time.Millisecond); r.Elapsed != want {
		t.Errorf("elapsed: got %v, want %v, the wait counted", time.Duration(r.Elapsed),
			time.Duration(want))
	}
}
