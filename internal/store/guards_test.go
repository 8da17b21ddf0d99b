package store_test

import (
	"errors"
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
