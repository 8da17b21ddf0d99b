package auth

import (
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"time"
)

// casAttempts bounds compare-and-swap retries. Losing this many times in a
// row means heavy contention on one counter; the request is answered busy.
const casAttempts = 16

var errContended = &Error{Code: CodeBusy, Message: "the server is busy, try again in a moment"}

// limit is one throttle: at most n attempts in a window. Once n have
// failed, the attempt after them is refused and starts a wait of base,
// doubled for every earlier wait (strike) within a day, up to max.
type limit struct {
	n                 int
	window, base, max time.Duration
}

func (p Policy) ipLimit() limit {
	return limit{p.IPFailures, p.IPWindow, p.IPWait, p.IPWait}
}

func (p Policy) accountLimit() limit {
	return limit{p.AccountFailures, p.AccountWindow, p.AccountWait, p.AccountMaxWait}
}

func (p Policy) perIPHourly() limit {
	return limit{p.SignupsPerIP, p.SignupWindow, p.SignupWindow, p.SignupWindow}
}

// take counts an attempt against key before the attempt is made. Counting
// first, each count a single conditional write, is what makes the limit
// hold against requests sent at the same moment: each takes one of the n
// places or is refused, however many arrive together. An attempt that
// turns out right gives its place back with refund, so only failures use
// up the budget. started reports that this call began a wait, for the
// security log.
//
// With pending, the attempt's place stays pending until refund or
// countFailure says how it ended. A window full of places some of which
// are pending is not yet full of failures: the attempt is refused for a
// second (429, like any throttled attempt) and no wait starts. Without
// it, eleven right passwords sent at once started the account's wait, as
// if the first ten had been wrong.
//
// Most attempts only add one to a count, which the store does in one
// statement; the compare-and-swap below decides the rest, which the store
// refused: a window that is full, or a wait that runs.
func (s *Service) take(ctx context.Context, key string, l limit, pending bool) (place Place,
	started bool, err error) {
	if l.n > 0 {
		gen, ok, err := s.store.TakeThrottle(ctx, key, l.n, l.window, s.now(), pending)
		if err != nil {
			return Place{}, false, internal("throttle", err)
		}
		if ok {
			return Place{key, gen}, false, nil
		}
	}
	for range casAttempts {
		t, err := s.store.Throttle(ctx, key)
		if err != nil {
			return Place{}, false, internal("throttle", err)
		}
		now := s.now()
		if wait := t.WaitUntil.Sub(now); wait > 0 {
			s.metrics.Throttled(throttleKind(key))
			return Place{}, false, throttled(wait)
		}
		if now.Sub(t.WindowStart) >= l.window {
			// The places of the window that passed, pending ones included,
			// are gone with it: a late refund or settle of one finds the
			// window changed and leaves this one alone.
			t.Count, t.Pending, t.Window, t.WindowStart = 0, 0, t.Window+1, now
		}
		if now.Sub(t.WaitUntil) >= 24*time.Hour {
			t.Strikes = 0
		}
		var wait time.Duration
		switch {
		case t.Count >= l.n && t.Count-t.Pending < l.n:
			s.metrics.Throttled(throttleKind(key))
			return Place{}, false, errInFlight
		case t.Count >= l.n:
			// A wait ends the window, as one that passes does.
			wait = backoff(l.base, l.max, t.Strikes)
			t.WaitUntil, t.Strikes = now.Add(wait), t.Strikes+1
			t.Count, t.Pending, t.Window, t.WindowStart = 0, 0, t.Window+1, now
		default:
			t.Count++
			if pending {
				t.Pending++
			}
		}
		t.Version++
		ok, err := s.store.SwapThrottle(ctx, t)
		if err != nil {
			return Place{}, false, internal("throttle", err)
		}
		if !ok {
			continue
		}
		if wait > 0 {
			s.metrics.Throttled(throttleKind(key))
			return Place{}, true, throttled(wait)
		}
		return Place{key, t.Window}, false, nil
	}
	return Place{}, false, errContended
}

// errInFlight refuses an attempt while the limit's places are taken by
// attempts still being checked.
var errInFlight = &Error{Code: CodeThrottled, RetryAfter: time.Second,
	Message: "too many attempts at once; wait 1s and try again"}

// refund gives back the places an attempt took, once it proved right or
// was never judged. It is not cancelled with the request: a customer who
// hangs up after a right password has still not failed. A failure to do so
// is only logged (the limits' names, not their keys, which hold addresses).
func (s *Service) refund(ctx context.Context, places ...Place) {
	ctx = context.WithoutCancel(ctx)
	s.logThrottleError(ctx, "refund throttle", places, s.store.RefundThrottles(ctx, places...))
}

// countFailure makes the pending places of a wrong password failures.
// Like refund, it is not cancelled with the request, and a failure is
// logged.
func (s *Service) countFailure(ctx context.Context, places ...Place) {
	ctx = context.WithoutCancel(ctx)
	s.logThrottleError(ctx, "settle throttle", places, s.store.SettleThrottles(ctx, places...))
}

// logThrottleError logs err with the limits' names, not their keys, which
// hold addresses.
func (s *Service) logThrottleError(ctx context.Context, msg string, places []Place, err error) {
	if err == nil {
		return
	}
	kinds := make([]string, len(places))
	for i, p := range places {
		kinds[i] = throttleKind(p.Key)
	}
	s.log.LogAttrs(ctx, slog.LevelError, msg, slog.Any("limits", kinds), slog.Any("err", err))
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

// throttleKind is the name of the limit that key counts for: the part of
// the key before its first colon ("ip", "account", …).
func throttleKind(key string) string {
	kind, _, _ := strings.Cut(key, ":")
	return kind
}

// addressKey is the part of a client address that per-address limits count
// by: an IPv4 address, or the /64 network of an IPv6 one, since a single
// IPv6 customer line usually holds a whole /64 to pick addresses from.
func addressKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is6() || a.Is4In6() {
		return ip
	}
	p, err := a.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}
