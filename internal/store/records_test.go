package store_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/clientarea/clientarea/internal/auth"
	"github.com/clientarea/clientarea/internal/store"
	"github.com/clientarea/clientarea/internal/storetest"
)

func TestEventsPaging(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ctx := t.Context()
		a := newAccount(t, st, "events@example.com")
		b := newAccount(t, st, "noise@example.com")
		const n = 25
		for i := range n {
			for _, id := range []int64{a.ID, b.ID} {
				e := auth.Event{AccountID: id, Kind: auth.EventSignIn,
					At: t0.Add(time.Duration(i) * time.Second), IP: "192.0.2.1",
					UserAgent: "test", Detail: fmt.Sprint(i)}
				if err := st.AddEvent(ctx, e); err != nil {
					t.Fatalf("AddEvent: %v", err)
				}
			}
		}

		var details []string
		var before int64
		for page := 0; ; page++ {
			es, err := st.Events(ctx, a.ID, before, 10)
			if err != nil {
				t.Fatalf("Events(before %d): %v", before, err)
			}
			if want := max(0, min(10, n-10*page)); len(es) != want {
				t.Fatalf("page %d: got %d events, want %d", page, len(es), want)
			}
			if len(es) == 0 {
				break
			}
			for i, e := range es {
				if e.AccountID != a.ID {
					t.Fatalf("page %d: event of account %d, want %d", page, e.AccountID, a.ID)
				}
				if i > 0 && e.ID >= es[i-1].ID {
					t.Errorf("page %d: id %d after %d, want newest first", page, e.ID, es[i-1].ID)
				}
				details = append(details, e.Detail)
			}
			before = es[len(es)-1].ID
		}
		if len(details) != n {
			t.Fatalf("events in all pages: got %d, want %d", len(details), n)
		}
		for i, d := range details {
			if want := fmt.Sprint(n - 1 - i); d != want {
				t.Errorf("event %d: got detail %s, want %s", i, d, want)
			}
		}
		es, err := st.Events(ctx, a.ID, 0, 1)
		if err != nil || len(es) != 1 || !es[0].At.Equal(t0.Add(24*time.Second)) ||
			es[0].Kind != auth.EventSignIn || es[0].IP != "192.0.2.1" ||
			es[0].UserAgent != "test" {
			t.Errorf("newest event: got %+v, %v", es, err)
		}
	})
}

func TestTokens(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ctx := t.Context()
		a := newAccount(t, st, "tokens@example.com")
		expires := t0.Add(30 * time.Minute)
		for _, id := range []string{"once", "late", "race"} {
			tok := auth.Token{Hash: auth.HashToken(id), Purpose: auth.TokenPasswordReset,
				AccountID: a.ID, Ref: 42, ExpiresAt: expires}
			if err := st.CreateToken(ctx, tok); err != nil {
				t.Fatalf("CreateToken: %v", err)
			}
		}

		tests := []struct {
			name    string
			id      string
			purpose auth.TokenPurpose
			at      time.Time
			wantOK  bool
		}{
			{"wrong purpose", "once", auth.TokenSupportConfirm, t0, false},
			{"unknown", "nobody", auth.TokenPasswordReset, t0, false},
			{"first use", "once", auth.TokenPasswordReset, t0, true},
			{"second use", "once", auth.TokenPasswordReset, t0, false},
			{"at expiry", "late", auth.TokenPasswordReset, expires, false},
			{"after expiry", "late", auth.TokenPasswordReset, expires.Add(time.Second), false},
			{"just before expiry", "late", auth.TokenPasswordReset,
				expires.Add(-time.Second), true},
		}
		for _, tt := range tests {
			got, err := st.UseToken(ctx, auth.HashToken(tt.id), tt.purpose, tt.at)
			if !tt.wantOK {
				if !errors.Is(err, auth.ErrNotFound) {
					t.Errorf("%s: UseToken: got %v, want ErrNotFound", tt.name, err)
				}
				continue
			}
			if err != nil || got.AccountID != a.ID || got.Ref != 42 ||
				!got.ExpiresAt.Equal(expires) {
				t.Errorf("%s: UseToken: got %+v, %v; want account %d, ref 42", tt.name, got, err,
					a.ID)
			}
		}

		const n = 20
		errs := make([]error, n)
		storetest.Race(n, func(i int) {
			_, errs[i] = st.UseToken(ctx, auth.HashToken("race"), auth.TokenPasswordReset, t0)
		})
		used := 0
		for i, err := range errs {
			switch {
			case err == nil:
				used++
			case !errors.Is(err, auth.ErrNotFound):
				t.Errorf("goroutine %d: got %v, want nil or ErrNotFound", i, err)
			}
		}
		if used != 1 {
			t.Errorf("uses of one token from %d requests: got %d, want 1", n, used)
		}
	})
}

func TestSettings(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ctx := t.Context()
		if _, err := st.Setting(ctx, "k"); !errors.Is(err, auth.ErrNotFound) {
			t.Fatalf("Setting(absent): got %v, want ErrNotFound", err)
		}
		tests := []struct {
			old, value string
			want       bool
		}{
			{"x", "a", false}, // absent, not "x"
			{"", "a", true},
			{"", "b", false}, // present now
			{"x", "b", false},
			{"a", "b", true},
			{"a", "c", false}, // stale
		}
		for _, tt := range tests {
			ok, err := st.PutSetting(ctx, "k", tt.old, tt.value)
			if err != nil || ok != tt.want {
				t.Errorf("PutSetting(k, %q, %q): got %t, %v; want %t", tt.old, tt.value, ok, err,
					tt.want)
			}
		}
		if v, err := st.Setting(ctx, "k"); v != "b" || err != nil {
			t.Errorf("Setting: got %q, %v; want b", v, err)
		}

		const n = 20
		oks := make([]bool, n)
		storetest.Race(n, func(i int) {
			oks[i], _ = st.PutSetting(ctx, "k", "b", fmt.Sprint("v", i))
		})
		if got := countTrue(oks); got != 1 {
			t.Errorf("winners of one compare-and-swap: got %d, want 1", got)
		}
	})
}

func TestRecoveryRequests(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ctx := t.Context()
		a := newAccount(t, st, "lost@example.com")
		r, err := st.CreateRecoveryRequest(ctx, auth.RecoveryRequest{AccountID: a.ID,
			Status: auth.RequestUnconfirmed, Message: "lost my phone", IP: "192.0.2.1",
			CreatedAt: t0})
		if err != nil {
			t.Fatalf("CreateRecoveryRequest: %v", err)
		}
		if open := requests(t, st, auth.RequestOpen); len(open) != 0 {
			t.Errorf("open before confirmation: got %d, want 0", len(open))
		}
		if err := st.ConfirmRecoveryRequest(ctx, r.ID, t0.Add(time.Minute)); err != nil {
			t.Fatalf("ConfirmRecoveryRequest: %v", err)
		}
		err = st.ConfirmRecoveryRequest(ctx, r.ID, t0.Add(time.Minute))
		if !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("ConfirmRecoveryRequest twice: got %v, want ErrNotFound", err)
		}
		open := requests(t, st, auth.RequestOpen)
		if len(open) != 1 || open[0].Email != a.Email || open[0].Message != "lost my phone" ||
			!open[0].ConfirmedAt.Equal(t0.Add(time.Minute)) {
			t.Fatalf("open requests: got %+v", open)
		}
		err = st.ResolveRecoveryRequests(ctx, a.ID, "op", "verified", t0.Add(hour))
		if err != nil {
			t.Fatalf("ResolveRecoveryRequests: %v", err)
		}
		done := requests(t, st, auth.RequestResolved)
		if len(done) != 1 || done[0].ResolvedBy != "op" || done[0].Resolution != "verified" ||
			!done[0].ResolvedAt.Equal(t0.Add(hour)) {
			t.Errorf("resolved requests: got %+v", done)
		}
	})
}

func requests(t *testing.T, st *store.Store, status auth.RequestStatus) []auth.RecoveryRequest {
	t.Helper()
	rs, err := st.RecoveryRequests(t.Context(), status, 10)
	if err != nil {
		t.Fatalf("RecoveryRequests(%s): %v", status, err)
	}
	return rs
}
