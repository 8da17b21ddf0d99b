package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/clientarea/clientarea/internal/auth"
	"github.com/clientarea/clientarea/internal/storetest"
)

// The counters are read-modify-write in Go with a compare-and-swap in SQL.
// Workers that each add increments with retry must lose none of them.
const (
	casWorkers    = 20
	casIncrements = 5
)

func TestSwapFactorGuard(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ctx := t.Context()
		a := newAccount(t, st, "guard@example.com")

		g, err := st.FactorGuard(ctx, a.ID)
		if err != nil || g != (auth.FactorGuard{AccountID: a.ID}) {
			t.Fatalf("FactorGuard of a new account: got %+v, %v; want zero", g, err)
		}
		wait := t0.Add(time.Minute)
		tests := []struct {
			name string
			g    auth.FactorGuard
			want bool
		}{
			{"stale update of no row", auth.FactorGuard{Version: 2, Total: 9}, false},
			{"create", auth.FactorGuard{Version: 1, Consecutive: 1, Total: 1}, true},
			{"create again", auth.FactorGuard{Version: 1, Total: 9}, false},
			{"skip a version", auth.FactorGuard{Version: 3, Total: 9}, false},
			{"next", auth.FactorGuard{Version: 2, Consecutive: 2, Total: 2, WaitUntil: wait},
				true},
			{"replay of next", auth.FactorGuard{Version: 2, Total: 9}, false},
		}
		for _, tt := range tests {
			tt.g.AccountID = a.ID
			ok, err := st.SwapFactorGuard(ctx, tt.g)
			if err != nil || ok != tt.want {
				t.Errorf("%s: SwapFactorGuard: got %t, %v; want %t", tt.name, ok, err, tt.want)
			}
		}
		g, err = st.FactorGuard(ctx, a.ID)
		want := auth.FactorGuard{AccountID: a.ID, Consecutive: 2, Total: 2, WaitUntil: wait,
			Version: 2}
		if err != nil || g != want {
			t.Errorf("FactorGuard: got %+v, %v; want %+v", g, err, want)
		}

		b := newAccount(t, st, "guard-race@example.com")
		errs := make([]error, casWorkers)
		storetest.Race(casWorkers, func(i int) {
			for range casIncrements {
				errs[i] = retry(func() (bool, error) {
					g, err := st.FactorGuard(ctx, b.ID)
					if err != nil {
						return false, err
					}
					g.Consecutive++
					g.Total += 2
					g.Version++
					return st.SwapFactorGuard(ctx, g)
				})
				if errs[i] != nil {
					return
				}
			}
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("worker %d: %v", i, err)
			}
		}
		g, err = st.FactorGuard(ctx, b.ID)
		const n = casWorkers * casIncrements
		if err != nil || g.Consecutive != n || g.Total != 2*n || g.Version != n {
			t.Errorf("after %d increments: got %+v, %v; want %d, %d, version %d",
				n, g, err, n, 2*n, n)
		}
	})
}

func TestSwapThrottle(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ctx := t.Context()
		const key = "login-ip:192.0.2.1"

		th, err := st.Throttle(ctx, key)
		if err != nil || th != (auth.Throttle{Key: key}) {
			t.Fatalf("Throttle of a new key: got %+v, %v; want zero", th, err)
		}
		wait := t0.Add(time.Minute)
		tests := []struct {
			name string
			th   auth.Throttle
			want bool
		}{
			{"stale update of no row", auth.Throttle{Version: 2, Count: 9}, false},
			{"create", auth.Throttle{Version: 1, Count: 1, WindowStart: t0}, true},
			{"create again", auth.Throttle{Version: 1, Count: 9}, false},
			{"skip a version", auth.Throttle{Version: 3, Count: 9}, false},
			{"next", auth.Throttle{Version: 2, Count: 2, WindowStart: t0, WaitUntil: wait,
				Strikes: 1}, true},
			{"replay of next", auth.Throttle{Version: 2, Count: 9}, false},
		}
		for _, tt := range tests {
			tt.th.Key = key
			ok, err := st.SwapThrottle(ctx, tt.th)
			if err != nil || ok != tt.want {
				t.Errorf("%s: SwapThrottle: got %t, %v; want %t", tt.name, ok, err, tt.want)
			}
		}
		th, err = st.Throttle(ctx, key)
		want := auth.Throttle{Key: key, Count: 2, WindowStart: t0, WaitUntil: wait, Strikes: 1,
			Version: 2}
		if err != nil || th != want {
			t.Errorf("Throttle: got %+v, %v; want %+v", th, err, want)
		}
		if other, err := st.Throttle(ctx, "login-ip:192.0.2.2"); err != nil || other.Version != 0 {
			t.Errorf("another key: got %+v, %v; want version 0", other, err)
		}

		const raceKey = "login-account:race@example.com"
		errs := make([]error, casWorkers)
		storetest.Race(casWorkers, func(i int) {
			for range casIncrements {
				errs[i] = retry(func() (bool, error) {
					th, err := st.Throttle(ctx, raceKey)
					if err != nil {
						return false, err
					}
					th.Count++
					th.Strikes += 2
					th.Version++
					return st.SwapThrottle(ctx, th)
				})
				if errs[i] != nil {
					return
				}
			}
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("worker %d: %v", i, err)
			}
		}
		th, err = st.Throttle(ctx, raceKey)
		const n = casWorkers * casIncrements
		if err != nil || th.Count != n || th.Strikes != 2*n || th.Version != n {
			t.Errorf("after %d increments: got %+v, %v; want %d, %d, version %d",
				n, th, err, n, 2*n, n)
		}
	})
}

// retry calls swap until it succeeds. Every failed swap means another
// worker's swap succeeded, so with a bounded number of increments in all
// this ends; the bound only turns a broken swap into a failure, not a hang.
func retry(swap func() (bool, error)) error {
	for range 10 * casWorkers * casIncrements {
		ok, err := swap()
		if err != nil || ok {
			return err
		}
	}
	return errors.New("compare-and-swap made no progress")
}

// TestTakeThrottle walks one key through each case at its edges: count
// while the window has room, start a new window once it has passed, and
// leave everything else (a full window, a wait) to the caller, unchanged.
// TestTakeThrottleMatchesPolicy below covers random clocks.
func TestTakeThrottle(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ctx := t.Context()
		const key, n, window = "login-account:take@example.com", 3, time.Minute

		take := func(name string, at time.Time, want bool) {
			t.Helper()
			if _, ok, err := st.TakeThrottle(ctx, key, n, window, at, false); err != nil || ok != want {
				t.Errorf("%s: TakeThrottle: got %t, %v; want %t", name, ok, err, want)
			}
		}
		state := func(name string, want auth.Throttle) {
			t.Helper()
			want.Key = key
			if got, err := st.Throttle(ctx, key); err != nil || got != want {
				t.Errorf("%s: Throttle: got %+v, %v; want %+v", name, got, err, want)
			}
		}

		// A fraction of a second is cut off, as every stored time is.
		take("new key", t0.Add(400*time.Millisecond), true)
		state("new key", auth.Throttle{Count: 1, Window: 1, WindowStart: t0, Version: 1})
		take("second", t0.Add(10*time.Second), true)
		take("third", t0.Add(20*time.Second), true)
		take("window full", t0.Add(30*time.Second), false)
		state("window full", auth.Throttle{Count: 3, Window: 1, WindowStart: t0, Version: 3})
		take("window full, its last instant", t0.Add(window-time.Nanosecond), false)
		take("window passed", t0.Add(window), true)
		state("window passed", auth.Throttle{Count: 1, Window: 2, WindowStart: t0.Add(window),
			Version: 4})

		// A wait the caller started, with strikes, holds until its end,
		// whatever the window; the count goes on after it, and the strikes
		// are left for the caller's policy.
		wait := t0.Add(5 * time.Minute)
		if ok, err := st.SwapThrottle(ctx, auth.Throttle{Key: key, Window: 3,
			WindowStart: t0.Add(window), WaitUntil: wait, Strikes: 2, Version: 5}); err != nil || !ok {
			t.Fatalf("SwapThrottle: %t, %v", ok, err)
		}
		take("waiting", wait.Add(-time.Nanosecond), false)
		state("waiting", auth.Throttle{Window: 3, WindowStart: t0.Add(window), WaitUntil: wait,
			Strikes: 2, Version: 5})
		take("wait over", wait, true)
		state("wait over", auth.Throttle{Count: 1, Window: 4, WindowStart: wait, WaitUntil: wait,
			Strikes: 2, Version: 6})

		if _, ok, err := st.TakeThrottle(ctx, "other", 0, window, t0, false); err == nil || ok {
			t.Errorf("limit 0: got %t, %v; want an error", ok, err)
		}
		if th, err := st.Throttle(ctx, "other"); err != nil || th.Version != 0 {
			t.Errorf("limit 0 stored %+v, %v", th, err)
		}

		// Takes sent at once fill the window exactly: none is lost, none
		// goes past the limit.
		const raceKey, limit = "login-ip:198.51.100.1", 30
		took := make([]bool, casWorkers*casIncrements)
		errs := make([]error, len(took))
		storetest.Race(casWorkers, func(i int) {
			for j := range casIncrements {
				k := i*casIncrements + j
				_, took[k], errs[k] = st.TakeThrottle(ctx, raceKey, limit, window, t0, false)
			}
		})
		count := 0
		for k, ok := range took {
			if errs[k] != nil {
				t.Fatalf("take %d: %v", k, errs[k])
			}
			if ok {
				count++
			}
		}
		th, err := st.Throttle(ctx, raceKey)
		if count != limit || err != nil || th.Count != limit {
			t.Errorf("%d takes at once with room for %d: %d taken, stored %+v, %v",
				len(took), limit, count, th, err)
		}
	})
}

// TestRefundThrottles: a refund takes one off each key that has a count in
// the place's window, leaves other keys and other windows alone and never
// goes below zero.
func TestRefundThrottles(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ctx := t.Context()
		for key, count := range map[string]int{"a": 2, "b": 1, "c": 5} {
			if ok, err := st.SwapThrottle(ctx, auth.Throttle{Key: key, Count: count, Window: 4,
				WindowStart: t0, Version: 1}); err != nil || !ok {
				t.Fatalf("SwapThrottle %s: %t, %v", key, ok, err)
			}
		}
		for range 2 {
			if err := st.RefundThrottles(ctx, auth.Place{Key: "a", Window: 4},
				auth.Place{Key: "b", Window: 4}, auth.Place{Key: "c", Window: 3},
				auth.Place{Key: "unknown", Window: 4}); err != nil {
				t.Fatalf("RefundThrottles: %v", err)
			}
		}
		if err := st.RefundThrottles(ctx); err != nil {
			t.Errorf("RefundThrottles of no key: %v", err)
		}
		want := map[string]auth.Throttle{
			"a": {Count: 0, Version: 3},
			"b": {Count: 0, Version: 2},
			"c": {Count: 5, Version: 1},
		}
		for key, w := range want {
			th, err := st.Throttle(ctx, key)
			if err != nil || th.Count != w.Count || th.Version != w.Version {
				t.Errorf("%s: got %+v, %v; want count %d, version %d", key, th, err,
					w.Count, w.Version)
			}
		}
		if th, _ := st.Throttle(ctx, "unknown"); th.Version != 0 {
			t.Errorf("a refund of an unknown key stored %+v", th)
		}
	})
}

// TestThrottlesTakenAndRefundedTogether: correct sign-ins of one account
// from one address take and give back places on the same two keys at once.
// None may fail (a refund that locked both rows in one statement deadlocked
// on PostgreSQL) and none may lose a place.
func TestThrottlesTakenAndRefundedTogether(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ctx := t.Context()
		keys := []string{"login-ip:198.51.100.7", "login-account:both@example.com"}
		const workers, rounds = 8, 40
		errs := make([]error, workers)
		storetest.Race(workers, func(i int) {
			// Half the workers name the keys the other way round.
			mine := []string{keys[i%2], keys[1-i%2]}
			for range rounds {
				var places []auth.Place
				for _, k := range mine {
					gen, ok, err := st.TakeThrottle(ctx, k, workers*rounds, time.Hour, t0, true)
					if err != nil || !ok {
						errs[i] = fmt.Errorf("take %s: %t, %v", k, ok, err)
						return
					}
					places = append(places, auth.Place{Key: k, Window: gen})
				}
				if err := st.RefundThrottles(ctx, places...); err != nil {
					errs[i] = err
					return
				}
			}
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("worker %d: %v", i, err)
			}
		}
		for _, k := range keys {
			if th, err := st.Throttle(ctx, k); err != nil || th.Count != 0 ||
				th.Version != 2*workers*rounds {
				t.Errorf("%s: got %+v, %v; want count 0 after %d takes and refunds", k, th, err,
					workers*rounds)
			}
		}
	})
}

// TestTakeThrottleMatchesPolicy drives TakeThrottle with random clocks,
// sub-second ones and ones that step back (instances' clocks differ),
// against the rules of auth's policy written out with time.Time: a take is
// refused while a wait runs; a window that has lasted its length starts
// again with this take; otherwise the take counts if the window has room.
func TestTakeThrottleMatchesPolicy(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ctx := t.Context()
		rng := rand.New(rand.NewPCG(7, 11))
		windows := []time.Duration{time.Second, 1500 * time.Millisecond, 30 * time.Second,
			time.Minute, time.Hour}
		type model struct {
			n             int
			window        time.Duration
			count         int
			gen           int64
			start, waitTo time.Time // as stored: whole seconds, zero for none
		}
		keys := make([]*model, 4)
		for i := range keys {
			keys[i] = &model{n: 1 + rng.IntN(4), window: windows[rng.IntN(len(windows))]}
		}
		now := t0
		for step := range 400 {
			now = now.Add(time.Duration(rng.Int64N(int64(40*time.Second))) - 5*time.Second)
			i := rng.IntN(len(keys))
			k, key := keys[i], fmt.Sprintf("k%d", i)
			if rng.IntN(10) == 0 && !k.start.IsZero() {
				// A wait the compare-and-swap path started.
				cur, err := st.Throttle(ctx, key)
				if err != nil {
					t.Fatal(err)
				}
				cur.WaitUntil = now.Add(time.Duration(rng.IntN(60)) * time.Second).Truncate(time.Second)
				cur.Count, cur.Version = 0, cur.Version+1
				if ok, err := st.SwapThrottle(ctx, cur); err != nil || !ok {
					t.Fatalf("SwapThrottle: %t, %v", ok, err)
				}
				k.waitTo, k.count = cur.WaitUntil, 0
			}
			want := false
			switch {
			case k.waitTo.Sub(now) > 0:
			case now.Sub(k.start) >= k.window:
				want, k.count, k.start, k.gen = true, 1, now.Truncate(time.Second), k.gen+1
			case k.count < k.n:
				want, k.count = true, k.count+1
			}
			gen, got, err := st.TakeThrottle(ctx, key, k.n, k.window, now, false)
			if err != nil || got != want || got && gen != k.gen {
				t.Fatalf("step %d, %s at %v (limit %d per %v, %+v): got %t, %v; want %t",
					step, key, now, k.n, k.window, *k, got, err, want)
			}
			th, err := st.Throttle(ctx, key)
			if err != nil || th.Count != k.count || !th.WindowStart.Equal(k.start) ||
				th.Window != k.gen {
				t.Fatalf("step %d, %s: stored %+v, %v; want count %d from %v, window %d", step,
					key, th, err, k.count, k.start, k.gen)
			}
		}
	})
}

// TestThrottlePending follows a limit's pending places: taken as pending,
// a failure stays counted and stops being pending, a refund takes the
// place off altogether, and neither goes below zero. A passed window
// starts with only the new attempt pending, and a place of the window
// before is neither given back nor settled in it.
func TestThrottlePending(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ctx := t.Context()
		const key, window = "login-account:pending@example.com", time.Minute
		state := func(name string, count, pending int) {
			t.Helper()
			th, err := st.Throttle(ctx, key)
			if err != nil || th.Count != count || th.Pending != pending {
				t.Errorf("%s: got %+v, %v; want count %d, %d pending", name, th, err, count, pending)
			}
		}
		take := func(at time.Time, pending bool) auth.Place {
			t.Helper()
			gen, ok, err := st.TakeThrottle(ctx, key, 10, window, at, pending)
			if err != nil || !ok {
				t.Fatalf("take: %t, %v", ok, err)
			}
			return auth.Place{Key: key, Window: gen}
		}
		do := func(f func(context.Context, ...auth.Place) error, places ...auth.Place) {
			t.Helper()
			if err := f(ctx, places...); err != nil {
				t.Fatal(err)
			}
		}
		p := take(t0, true)
		take(t0, true)
		take(t0, true)
		take(t0, false)
		state("three pending and one not", 4, 3)
		do(st.SettleThrottles, p)
		state("one failed", 4, 2)
		do(st.RefundThrottles, p)
		state("one right", 3, 1)
		do(st.SettleThrottles, p, p, p)
		state("settled more often than pending", 3, 0)
		do(st.RefundThrottles, p)
		state("a refund with nothing pending", 2, 0)

		old := take(t0, true)
		next := take(t0.Add(window), true)
		state("the next window", 1, 1)
		if next.Window != old.Window+1 {
			t.Errorf("windows %d then %d, want the next one numbered one more", old.Window,
				next.Window)
		}
		do(st.RefundThrottles, old)
		do(st.SettleThrottles, old)
		state("a place of the window before, given back and settled", 1, 1)
		do(st.SettleThrottles, next)
		state("this window's place settled", 1, 0)
	})
}
