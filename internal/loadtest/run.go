package loadtest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"
)

// ErrExhausted ends a run early when the work prepared for it (sessions,
// accounts) is used up; Run treats it as the end, not as a failure.
var ErrExhausted = errors.New("loadtest: prepared work used up")

// Load bounds one measurement: Concurrency workers send requests until
// Requests calls are made or Duration has passed, whichever comes first.
type Load struct {
	Concurrency int
	Requests    int
	Duration    time.Duration
}

// Outcome is what one call of a run's function reports: the status that
// decides it (the last one received) or the error that kept it from
// getting one.
type Outcome struct {
	Status int
	Err    error
	// Waited is the time the call spent waiting on the load generator
	// itself, for an account's next TOTP step: not the server's time, so
	// it is left out of the call's latency.
	Waited time.Duration
}

// Result is the measurement of one run.
type Result struct {
	Concurrency int `json:"concurrency"`
	// Calls counts the calls made, OK those that ended in 200.
	Calls int `json:"calls"`
	OK    int `json:"ok"`
	// Statuses counts the calls by final status; "transport" counts calls
	// that got no answer.
	Statuses map[string]int `json:"statuses"`
	// Waited counts the answered calls that had to wait for an account's
	// next TOTP step. Their latencies leave the wait out, but Elapsed, and
	// so PerSecond, cannot: a run with waits had too few accounts. Calls
	// cut off by the end of the run while they waited are not counted.
	Waited  int    `json:"waited_calls,omitempty"`
	Elapsed Millis `json:"elapsed_ms"`
	// PerSecond is OK calls per second of Elapsed.
	PerSecond float64 `json:"per_second"`
	Latency   Summary `json:"latency"`
	// ServerCPU and ServerCPUEach, when the server's process is known,
	// are the CPU time it used during the run, in all and per OK call.
	ServerCPU     Millis `json:"server_cpu_ms,omitempty"`
	ServerCPUEach Millis `json:"server_cpu_ms_each,omitempty"`
	// DatabaseCPU and DatabaseCPUEach are the same for the database
	// server's processes, when it runs on this machine (PostgreSQL).
	DatabaseCPU     Millis `json:"database_cpu_ms,omitempty"`
	DatabaseCPUEach Millis `json:"database_cpu_ms_each,omitempty"`
	// OtherCPU is the CPU time the machine's other processes used during
	// the run: on a shared machine, what the figures competed with.
	OtherCPU Millis `json:"other_cpu_ms,omitempty"`
}

// Errors counts calls whose status is not one of want, plus calls that
// got no answer.
func (r Result) Errors(want ...int) int {
	n := 0
	for status, count := range r.Statuses {
		code, err := strconv.Atoi(status)
		if err != nil || !slices.Contains(want, code) {
			n += count
		}
	}
	return n
}

// Run calls do from l.Concurrency goroutines until l.Requests calls have
// started, l.Duration has passed, ctx ends, or do reports ErrExhausted.
// Every call's latency is recorded, less the time it reports it Waited.
// now is the clock (time.Now in use), and must be the one Waited was
// measured by.
func Run(ctx context.Context, l Load, now func() time.Time,
	do func(ctx context.Context, worker, call int) Outcome) Result {
	ctx, cancel := context.WithTimeout(ctx, l.Duration)
	defer cancel()
	var (
		mu        sync.Mutex
		started   int
		exhausted bool
		lat       = make([][]time.Duration, l.Concurrency)
		statuses  = make([]map[string]int, l.Concurrency)
		waited    = make([]int, l.Concurrency)
	)
	next := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if started >= l.Requests || exhausted || ctx.Err() != nil {
			return 0, false
		}
		started++
		return started - 1, true
	}
	begin := now()
	var wg sync.WaitGroup
	for w := range l.Concurrency {
		statuses[w] = map[string]int{}
		wg.Go(func() {
			for {
				call, ok := next()
				if !ok {
					return
				}
				t := now()
				o := do(ctx, w, call)
				if errors.Is(o.Err, ErrExhausted) {
					// Calls in flight still count: only new ones stop.
					mu.Lock()
					exhausted = true
					mu.Unlock()
					return
				}
				if o.Err != nil && ctx.Err() != nil {
					return // cut off by the end of the run, not an answer
				}
				lat[w] = append(lat[w], max(now().Sub(t)-o.Waited, 0))
				statuses[w][statusKey(o)]++
				if o.Waited > 0 {
					waited[w]++
				}
			}
		})
	}
	wg.Wait()
	r := summarize(l.Concurrency, now().Sub(begin), lat, statuses)
	for _, n := range waited {
		r.Waited += n
	}
	return r
}

func statusKey(o Outcome) string {
	if o.Err != nil || o.Status == 0 {
		return "transport"
	}
	return strconv.Itoa(o.Status)
}

func summarize(concurrency int, elapsed time.Duration, lat [][]time.Duration,
	statuses []map[string]int) Result {
	r := Result{Concurrency: concurrency, Statuses: map[string]int{}, Elapsed: Millis(elapsed)}
	var all []time.Duration
	for w := range lat {
		all = append(all, lat[w]...)
		for k, v := range statuses[w] {
			r.Statuses[k] += v
		}
	}
	r.Calls = len(all)
	r.OK = r.Statuses["200"]
	if elapsed > 0 {
		r.PerSecond = float64(r.OK) / elapsed.Seconds()
	}
	r.Latency = Summarize(all)
	return r
}

// Millis is a duration that reads and writes as fractional milliseconds,
// the unit latency budgets are stated in.
type Millis time.Duration

// MarshalJSON writes m as milliseconds with microsecond precision.
func (m Millis) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, m.Float(), 'f', 3, 64), nil
}

// UnmarshalJSON reads milliseconds as MarshalJSON writes them.
func (m *Millis) UnmarshalJSON(b []byte) error {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("loadtest: milliseconds: %w", err)
	}
	*m = Millis(math.Round(f * float64(time.Millisecond)))
	return nil
}

// Float returns m in milliseconds.
func (m Millis) Float() float64 { return float64(m) / float64(time.Millisecond) }

// Summary is a latency distribution.
type Summary struct {
	Count int    `json:"count"`
	P50   Millis `json:"p50_ms"`
	P90   Millis `json:"p90_ms"`
	P99   Millis `json:"p99_ms"`
	Max   Millis `json:"max_ms"`
}

// Summarize sorts ds in place and returns its percentiles, by the
// nearest-rank method: P99 is the smallest value that at least 99% of
// the values do not exceed.
func Summarize(ds []time.Duration) Summary {
	if len(ds) == 0 {
		return Summary{}
	}
	slices.Sort(ds)
	rank := func(p int) Millis {
		i := (p*len(ds) + 99) / 100 // ceil(p/100 * n), counted from 1
		return Millis(ds[max(i, 1)-1])
	}
	return Summary{Count: len(ds), P50: rank(50), P90: rank(90), P99: rank(99),
		Max: Millis(ds[len(ds)-1])}
}
