package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

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
	err := s.write.QueryRowContext(ctx, s.q("SELECT count, pending, window_gen, window_start, "+
		"wait_until, strikes, version FROM throttles WHERE key = ?"), key).
		Scan(&t.Count, &t.Pending, &t.Window, &start, &wait, &t.Strikes, &t.Version)
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
			"(key, count, pending, window_gen, window_start, wait_until, strikes, version) "+
			"VALUES (?, ?, ?, ?, ?, ?, ?, 1) ON CONFLICT DO NOTHING", t.Key, t.Count, t.Pending,
			t.Window, unix(t.WindowStart), unix(t.WaitUntil), t.Strikes)
	} else {
		n, err = s.exec(ctx, "UPDATE throttles SET count = ?, pending = ?, window_gen = ?, "+
			"window_start = ?, wait_until = ?, strikes = ?, version = ? "+
			"WHERE key = ? AND version = ?", t.Count, t.Pending, t.Window, unix(t.WindowStart),
			unix(t.WaitUntil), t.Strikes, t.Version, t.Key, t.Version-1)
	}
	if err != nil {
		return false, fmt.Errorf("store: swap throttle: %w", err)
	}
	return n == 1, nil
}

// TakeThrottle counts one attempt against key in a single statement, when
// counting is all the attempt needs: the key is not waiting, and its window
// has room or has passed (a passed window starts again at now, as the next
// window, with this attempt in it and no other pending). It reports the
// window the place was taken in, or false and changes nothing otherwise;
// the caller then decides with Throttle and SwapThrottle, where the policy
// for starting a wait lives. n must be at least 1. With pending, the
// attempt is also counted as pending, until SettleThrottles or
// RefundThrottles.
//
// One statement where the compare-and-swap takes two round trips: a
// sign-in takes places on two keys and gives both back, and on PostgreSQL
// those were eight of its statements.
func (s *Store) TakeThrottle(ctx context.Context, key string, n int, window time.Duration,
	now time.Time, pending bool) (gen int64, ok bool, err error) {
	if n < 1 {
		return 0, false, fmt.Errorf("store: take throttle: limit %d below 1", n)
	}
	p := 0
	if pending {
		p = 1
	}
	// A window that began at or before cut has passed: with window_start
	// in whole seconds, window_start <= cut is exactly the Go policy's
	// now - start >= window. Likewise wait_until <= now is "not waiting".
	at, cut := now.Unix(), now.Add(-window).Unix()
	err = s.write.QueryRowContext(ctx, s.q("INSERT INTO throttles "+
		"(key, count, pending, window_gen, window_start, wait_until, strikes, version) "+
		"VALUES (?, 1, ?, 1, ?, 0, 0, 1) "+
		"ON CONFLICT (key) DO UPDATE SET "+
		"count = CASE WHEN throttles.window_start <= ? THEN 1 ELSE throttles.count + 1 END, "+
		"pending = CASE WHEN throttles.window_start <= ? THEN ? "+
		"ELSE throttles.pending + ? END, "+
		"window_gen = CASE WHEN throttles.window_start <= ? THEN throttles.window_gen + 1 "+
		"ELSE throttles.window_gen END, "+
		"window_start = CASE WHEN throttles.window_start <= ? THEN ? "+
		"ELSE throttles.window_start END, "+
		"version = throttles.version + 1 "+
		"WHERE throttles.wait_until <= ? AND "+
		"(throttles.window_start <= ? OR throttles.count < ?) "+
		"RETURNING window_gen"),
		key, p, at, cut, cut, p, p, cut, cut, at, at, cut, n).Scan(&gen)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("store: take throttle: %w", err)
	}
	return gen, true, nil
}

// RefundThrottles gives back each pending place, if its window is still
// the key's: it is no longer counted at all. A place of a window that has
// passed or ended in a wait is gone with it; giving it back to the next
// window would free a place there that no attempt of that window took.
// Each place is its own statement: one UPDATE of several rows locks them
// in the order the plan visits them, which on PostgreSQL follows where the
// rows lie on disk, and two refunds of the same two keys then deadlocked.
//
// A place that fails is reported and the others are still tried: a place
// left pending refuses its key for the rest of the window.
func (s *Store) RefundThrottles(ctx context.Context, places ...auth.Place) error {
	return s.eachPlace(ctx, "refund throttles", "UPDATE throttles SET count = count - 1, "+
		"pending = CASE WHEN pending > 0 THEN pending - 1 ELSE 0 END, "+
		"version = version + 1 WHERE key = ? AND window_gen = ? AND count > 0", places)
}

// SettleThrottles records that the attempt of each pending place failed:
// it stays counted, and is no longer pending. Like RefundThrottles, only in
// the place's own window, one statement per place, every place tried.
func (s *Store) SettleThrottles(ctx context.Context, places ...auth.Place) error {
	return s.eachPlace(ctx, "settle throttles", "UPDATE throttles SET pending = pending - 1, "+
		"version = version + 1 WHERE key = ? AND window_gen = ? AND pending > 0", places)
}

// eachPlace runs stmt, whose arguments are a place's key and window, for
// every place, and reports every one that failed.
func (s *Store) eachPlace(ctx context.Context, op, stmt string, places []auth.Place) error {
	var errs []error
	for _, pl := range places {
		if _, err := s.exec(ctx, stmt, pl.Key, pl.Window); err != nil {
			errs = append(errs, fmt.Errorf("store: %s: %w", op, err))
		}
	}
	return errors.Join(errs...)
}
