package auth

import (
	"context"
	"time"
)

// casAttempts bounds compare-and-swap retries. Losing this many times in a
// row means heavy contention on one counter; the request is answered busy.
const casAttempts = 16

var errContended = &Error{Code: CodeBusy, Message: "the server is busy, try again in a moment"}

// checkThrottle refuses while key is in a wait.
func (s *Service) checkThrottle(ctx context.Context, key string) error {
	t, err := s.store.Throttle(ctx, key)
	if err != nil {
		return internal("throttle", err)
	}
	if wait := t.WaitUntil.Sub(s.now()); wait > 0 {
		s.metrics.Throttled(throttleKind(key))
		return throttled(wait)
	}
	return nil
}

// passwordFailed counts a wrong password against the address and the account.
func (s *Service) passwordFailed(ctx context.Context, ipKey, accountKey string) error {
	p := s.policy
	if err := s.fail(ctx, ipKey, p.IPFailures, p.IPWindow, p.IPWait, p.IPWait); err != nil {
		return err
	}
	return s.fail(ctx, accountKey, p.AccountFailures, p.AccountWindow, p.AccountWait,
		p.AccountMaxWait)
}

// fail counts one failure for key in a fixed window of length window. The
// limit-th failure in a window starts a wait of base, doubled for every
// earlier wait (strike) within a day, up to max.
func (s *Service) fail(ctx context.Context, key string, limit int, window, base, max time.Duration) error {
	for range casAttempts {
		t, err := s.store.Throttle(ctx, key)
		if err != nil {
			return internal("throttle", err)
		}
		now := s.now()
		if now.Sub(t.WindowStart) >= window {
			t.Count, t.WindowStart = 0, now
		}
		if now.Sub(t.WaitUntil) >= 24*time.Hour {
			t.Strikes = 0
		}
		t.Count++
		if t.Count >= limit {
			t.WaitUntil = now.Add(backoff(base, max, t.Strikes))
			t.Strikes++
			t.Count, t.WindowStart = 0, now
		}
		t.Version++
		ok, err := s.store.SwapThrottle(ctx, t)
		if err != nil {
			return internal("throttle", err)
		}
		if ok {
			return nil
		}
	}
	return errContended
}

// backoff is base doubled n times, at most max.
func backoff(base, max time.Duration, n int) time.Duration {
	d := base
	for range n {
		if d >= max/2 {
			return max
		}
		d *= 2
	}
	return min(d, max)
}

func throttled(wait time.Duration) error {
	secs := (wait + time.Second - 1) / time.Second * time.Second
	return &Error{Code: CodeThrottled, RetryAfter: secs,
		Message: "too many attempts; wait " + secs.String() + " and try again"}
}

func throttleKind(key string) string {
	for i := range len(key) {
		if key[i] == ':' {
			return key[:i]
		}
	}
	return key
}
