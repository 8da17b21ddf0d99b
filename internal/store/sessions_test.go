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

const hour = time.Hour

func newSession(accountID int64, id string, expires time.Time) auth.Session {
	return auth.Session{IDHash: auth.HashToken(id), AccountID: accountID,
		Stage: auth.StagePassword, CreatedAt: t0, LastSeen: t0, ExpiresAt: expires,
		IP: "192.0.2.1", UserAgent: "test"}
}

func TestSessions(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ctx := t.Context()
		a := newAccount(t, st, "sessions@example.com")
		b := newAccount(t, st, "other@example.com")

		half := newSession(a.ID, "half", t0.Add(5*time.Minute))
		keep := newSession(a.ID, "keep", t0.Add(12*hour))
		keep.Stage, keep.ViaRecovery = auth.StageFull, true
		other := newSession(a.ID, "other", t0.Add(12*hour))
		foreign := newSession(b.ID, "foreign", t0.Add(12*hour))
		for _, s := range []auth.Session{half, keep, other, foreign} {
			if err := st.CreateSession(ctx, s); err != nil {
				t.Fatalf("CreateSession: %v", err)
			}
		}
		if got := session(t, st, keep.IDHash); !equalSession(got, keep) {
			t.Errorf("Session: got %+v, want %+v", got, keep)
		}
		_, _, err := st.Session(ctx, auth.HashToken("nobody"))
		if !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("Session(unknown): got %v, want ErrNotFound", err)
		}

		// Step-up replaces the half session; a second step-up with it fails.
		full := newSession(a.ID, "full", t0.Add(12*hour))
		full.Stage = auth.StageFull
		if err := st.ReplaceSession(ctx, half.IDHash, full); err != nil {
			t.Fatalf("ReplaceSession: %v", err)
		}
		if _, _, err := st.Session(ctx, half.IDHash); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("replaced session: got %v, want ErrNotFound", err)
		}
		if got := session(t, st, full.IDHash); !equalSession(got, full) {
			t.Errorf("new session: got %+v, want %+v", got, full)
		}
		again := newSession(a.ID, "again", t0.Add(12*hour))
		err = st.ReplaceSession(ctx, half.IDHash, again)
		if !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("ReplaceSession of a gone session: got %v, want ErrNotFound", err)
		}
		if _, _, err := st.Session(ctx, again.IDHash); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("a failed replace created its session: got %v, want ErrNotFound", err)
		}

		seen := t0.Add(10 * time.Minute)
		if err := st.TouchSession(ctx, keep.IDHash, seen); err != nil {
			t.Fatalf("TouchSession: %v", err)
		}
		if got := session(t, st, keep.IDHash).LastSeen; !got.Equal(seen) {
			t.Errorf("LastSeen: got %v, want %v", got, seen)
		}

		if err := st.DeleteSessions(ctx, a.ID, keep.IDHash); err != nil {
			t.Fatalf("DeleteSessions(keep): %v", err)
		}
		assertSessions(t, st, map[string]bool{"keep": true, "other": false, "full": false,
			"foreign": true})
		if err := st.DeleteSession(ctx, keep.IDHash); err != nil {
			t.Fatalf("DeleteSession: %v", err)
		}
		assertSessions(t, st, map[string]bool{"keep": false, "foreign": true})
		if err := st.CreateSession(ctx, other); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		if err := st.DeleteSessions(ctx, a.ID, nil); err != nil {
			t.Fatalf("DeleteSessions(nil): %v", err)
		}
		assertSessions(t, st, map[string]bool{"other": false, "foreign": true})
	})
}

func TestSessionReplaceRace(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		a := newAccount(t, st, "stepup@example.com")
		half := newSession(a.ID, "half", t0.Add(hour))
		if err := st.CreateSession(t.Context(), half); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		const n = 20
		errs := make([]error, n)
		storetest.Race(n, func(i int) {
			full := newSession(a.ID, fmt.Sprintf("full-%d", i), t0.Add(hour))
			errs[i] = st.ReplaceSession(t.Context(), half.IDHash, full)
		})
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, auth.ErrNotFound):
				t.Errorf("goroutine %d: got %v, want nil or ErrNotFound", i, err)
			}
		}
		if won != 1 {
			t.Errorf("step-ups: got %d, want 1", won)
		}
		if n, err := st.CountSessions(t.Context(), t0); n != 1 || err != nil {
			t.Errorf("CountSessions: got %d, %v; want 1", n, err)
		}
	})
}

func TestDeleteExpiredSessions(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ctx := t.Context()
		a := newAccount(t, st, "expire@example.com")
		for i, d := range []time.Duration{-time.Second, 0, time.Second, hour} {
			s := newSession(a.ID, fmt.Sprintf("s%d", i), t0.Add(d))
			if err := st.CreateSession(ctx, s); err != nil {
				t.Fatalf("CreateSession: %v", err)
			}
		}
		if n, err := st.CountSessions(ctx, t0); n != 2 || err != nil {
			t.Errorf("CountSessions: got %d, %v; want 2 (expiring at t0 counts as expired)",
				n, err)
		}
		if n, err := st.DeleteExpiredSessions(ctx, t0); n != 2 || err != nil {
			t.Errorf("DeleteExpiredSessions: got %d, %v; want 2", n, err)
		}
		assertSessions(t, st, map[string]bool{"s0": false, "s1": false, "s2": true, "s3": true})
		if n, err := st.DeleteExpiredSessions(ctx, t0); n != 0 || err != nil {
			t.Errorf("DeleteExpiredSessions again: got %d, %v; want 0", n, err)
		}

		// More than one write transaction's worth, among live sessions.
		var many []auth.Session
		for i := range 1203 {
			many = append(many, newSession(a.ID, fmt.Sprintf("old%d", i), t0.Add(-hour)),
				newSession(a.ID, fmt.Sprintf("live%d", i), t0.Add(hour)))
		}
		if err := st.BulkSessions(ctx, many); err != nil {
			t.Fatalf("BulkSessions: %v", err)
		}
		if n, err := st.DeleteExpiredSessions(ctx, t0); n != 1203 || err != nil {
			t.Errorf("DeleteExpiredSessions of 1203: got %d, %v", n, err)
		}
		if n, err := st.CountSessions(ctx, t0); n != 1205 || err != nil {
			t.Errorf("CountSessions after: got %d, %v; want 1205", n, err)
		}
	})
}

func session(t *testing.T, st *store.Store, idHash []byte) auth.Session {
	t.Helper()
	s, a, err := st.Session(t.Context(), idHash)
	if err != nil {
		t.Fatalf("Session: %v", err)
	}
	if want, err := st.AccountByID(t.Context(), s.AccountID); err != nil || a != want {
		t.Errorf("Session's account: got %+v, want %+v (%v)", a, want, err)
	}
	return s
}

func equalSession(a, b auth.Session) bool {
	return string(a.IDHash) == string(b.IDHash) && a.AccountID == b.AccountID &&
		a.Stage == b.Stage && a.CreatedAt.Equal(b.CreatedAt) && a.LastSeen.Equal(b.LastSeen) &&
		a.ExpiresAt.Equal(b.ExpiresAt) && a.IP == b.IP && a.UserAgent == b.UserAgent &&
		a.ViaRecovery == b.ViaRecovery
}

// assertSessions checks, for each session id, whether it exists.
func assertSessions(t *testing.T, st *store.Store, want map[string]bool) {
	t.Helper()
	for id, exists := range want {
		_, _, err := st.Session(t.Context(), auth.HashToken(id))
		switch {
		case err != nil && !errors.Is(err, auth.ErrNotFound):
			t.Errorf("Session(%s): %v", id, err)
		case (err == nil) != exists:
			t.Errorf("session %s exists: got %t, want %t", id, err == nil, exists)
		}
	}
}
