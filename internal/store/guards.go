package store

import (
	"context"
	"fmt"

	"github.com/clientarea/clientarea/internal/auth"
)

// FactorGuard reads an account's second-factor counters; an account that
// never failed has a zero guard with Version 0.
func (s *Store) FactorGuard(ctx context.Context, accountID int64) (auth.FactorGuard, error) {
	g := auth.FactorGuard{AccountID: accountID}
	var wait int64
	err := s.write.QueryRowContext(ctx, s.q("SELECT consecutive, total, wait_until, version "+
		"FROM factor_guards WHERE account_id = ?"), accountID).
		Scan(&g.Consecutive, &g.Total, &wait, &g.Version)
	if err = notFound(err); err != nil && err != auth.ErrNotFound {
		return g, fmt.Errorf("store: factor guard: %w", err)
	}
	g.WaitUntil = fromUnix(wait)
	return g, nil
}

// SwapFactorGuard is a compare-and-swap on the guard's version: the policy
// lives in Go, yet two instances counting wrong codes never lose a count.
func (s *Store) SwapFactorGuard(ctx context.Context, g auth.FactorGuard) (bool, error) {
	var n int64
	var err error
	if g.Version == 1 {
		n, err = s.exec(ctx, "INSERT INTO factor_guards "+
			"(account_id, consecutive, total, wait_until, version) VALUES (?, ?, ?, ?, 1) "+
			"ON CONFLICT DO NOTHING", g.AccountID, g.Consecutive, g.Total, unix(g.WaitUntil))
	} else {
		n, err = s.exec(ctx, "UPDATE factor_guards SET consecutive = ?, total = ?, "+
			"wait_until = ?, version = ? WHERE account_id = ? AND version = ?",
			g.Consecutive, g.Total, unix(g.WaitUntil), g.Version, g.AccountID, g.Version-1)
	}
	if err != nil {
		return false, fmt.Errorf("store: swap factor guard: %w", err)
	}
	return n == 1, nil
}

// Throttle reads a failure counter; an unknown key has Version 0.
func (s *Store) Throttle(ctx context.Context, key string) (auth.Throttle, error) {
	t := auth.Throttle{Key: key}
	var start, wait int64
	err := s.write.QueryRowContext(ctx, s.q("SELECT count, window_start, wait_until, strikes, "+
		"version FROM throttles WHERE key = ?"), key).
		Scan(&t.Count, &start, &wait, &t.Strikes, &t.Version)
	if err = notFound(err); err != nil && err != auth.ErrNotFound {
		return t, fmt.Errorf("store: throttle: %w", err)
	}
	t.WindowStart, t.WaitUntil = fromUnix(start), fromUnix(wait)
	return t, nil
}

// SwapThrottle is a compare-and-swap on the counter's version.
func (s *Store) SwapThrottle(ctx context.Context, t auth.Throttle) (bool, error) {
	var n int64
	var err error
	if t.Version == 1 {
		n, err = s.exec(ctx, "INSERT INTO throttles "+
			"(key, count, window_start, wait_until, strikes, version) VALUES (?, ?, ?, ?, ?, 1) "+
			"ON CONFLICT DO NOTHING", t.Key, t.Count, unix(t.WindowStart), unix(t.WaitUntil),
			t.Strikes)
	} else {
		n, err = s.exec(ctx, "UPDATE throttles SET count = ?, window_start = ?, wait_until = ?, "+
			"strikes = ?, version = ? WHERE key = ? AND version = ?", t.Count,
			unix(t.WindowStart), unix(t.WaitUntil), t.Strikes, t.Version, t.Key, t.Version-1)
	}
	if err != nil {
		return false, fmt.Errorf("store: swap throttle: %w", err)
	}
	return n == 1, nil
}
