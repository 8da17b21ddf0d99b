package loadtest

import (
	"context"
	"encoding/hex"
	"slices"
	"testing"
	"time"
)

func TestAccounts(t *testing.T) {
	seed := make([]byte, 32)
	for i := range seed {
		seed[i] = byte(i)
	}
	a := NewAccounts(seed, "ab12")
	// HMAC-SHA1(seed, i as 8 big-endian bytes), computed with Python's
	// hmac module.
	tests := []struct {
		i           int
		email, want string
	}{
		{0, "load-ab12-0@bench.invalid", "21e705843fdb548b0c4b01c091f0f6cc3efae541"},
		{1, "load-ab12-1@bench.invalid", "d33fb107e4fac16345e31538047aeed05211ba3f"},
		{1000000, "load-ab12-1000000@bench.invalid", "bb40306195901f8c750269d065bceae27c7e9e6f"},
	}
	for _, tt := range tests {
		if got := a.Email(tt.i); got != tt.email {
			t.Errorf("Email(%d): got %s, want %s", tt.i, got, tt.email)
		}
		if got := hex.EncodeToString(a.Secret(tt.i)); got != tt.want {
			t.Errorf("Secret(%d): got %s, want %s", tt.i, got, tt.want)
		}
	}
}

// fakeTime is a clock that only the pool's waits move.
type fakeTime struct {
	now    time.Time
	waited []time.Duration
}

func (f *fakeTime) Now() time.Time { return f.now }

func (f *fakeTime) wait(_ context.Context, d time.Duration) error {
	f.waited = append(f.waited, d)
	f.now = f.now.Add(d)
	return nil
}

// at is 10 seconds into the step that starts at Unix 1700000010.
var at = time.Unix(1700000020, 0)

func TestPoolReserveVisitsEveryAccount(t *testing.T) {
	for _, size := range []int{1, 10, 7919, 15838} {
		clock := &fakeTime{now: at}
		p := NewPool(size, clock.Now, clock.wait)
		got := p.Reserve(size)
		slices.Sort(got)
		for i, a := range got {
			if a != i {
				t.Fatalf("size %d: Reserve(%d) sorted has %d at %d, want every account once",
					size, size, a, i)
			}
		}
	}
}

func TestPoolUseWaitsForTheNextStep(t *testing.T) {
	clock := &fakeTime{now: at}
	p := NewPool(2, clock.Now, clock.wait)
	first, waited, err := p.Use(t.Context(), 0)
	if err != nil || !first.Equal(at) || waited != 0 {
		t.Fatalf("first Use: got %v after %v, %v; want %v at once", first, waited, err, at)
	}
	if got, waited, err := p.Use(t.Context(), 1); err != nil || !got.Equal(at) || waited != 0 {
		t.Fatalf("Use of another account: got %v after %v, %v; want %v at once", got, waited,
			err, at)
	}
	// Account 0 again in the same step: its code would be a replay.
	second, waited, err := p.Use(t.Context(), 0)
	next := time.Unix(1700000040, 0)
	if err != nil || !second.Equal(next) || waited != 20*time.Second {
		t.Fatalf("second Use: got %v after %v, %v; want %v, the next step's start, after 20s",
			second, waited, err, next)
	}
	if len(clock.waited) != 1 || clock.waited[0] != 20*time.Second || p.Waits() != 1 {
		t.Errorf("waits: got %v (%d counted), want one of 20s", clock.waited, p.Waits())
	}
}

func TestPoolReservePassesOverUsedAccounts(t *testing.T) {
	clock := &fakeTime{now: at}
	p := NewPool(3, clock.Now, clock.wait)
	order := p.Reserve(3)
	if _, _, err := p.Use(t.Context(), order[0]); err != nil {
		t.Fatal(err)
	}
	p.Resize(3) // starts the walk again at its beginning
	if got := p.Reserve(2); slices.Contains(got, order[0]) {
		t.Errorf("Reserve(2) after using %d: got %v, want the two unused accounts",
			order[0], got)
	}
	// With every account used, Reserve still answers; Use then waits.
	for _, a := range order[1:] {
		if _, _, err := p.Use(t.Context(), a); err != nil {
			t.Fatal(err)
		}
	}
	if got := p.Reserve(4); len(got) != 4 {
		t.Errorf("Reserve(4) of 3 used accounts: got %v, want 4 accounts", got)
	}
}

func TestPoolUseStopsWithContext(t *testing.T) {
	p := NewPool(1, func() time.Time { return at }, Sleep)
	if _, _, err := p.Use(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := p.Use(ctx, 0); err == nil {
		t.Errorf("Use with a cancelled context while waiting: got no error")
	}
}
