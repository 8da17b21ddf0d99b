package store_test

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/clientarea/clientarea/internal/auth"
	"github.com/clientarea/clientarea/internal/store"
	"github.com/clientarea/clientarea/internal/storetest"
)

// fill puts one row in every table, and returns the account.
func fill(t *testing.T, st *store.Store) auth.Account {
	t.Helper()
	ctx := t.Context()
	a := newAccount(t, st, "copy@example.com")
	c := activeCredential(t, st, a.ID, 77)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := st.AdvanceStep(ctx, c.ID, 78, []byte("sess"), "192.0.2.1"); !ok || err != nil {
		t.Fatalf("AdvanceStep: %t, %v", ok, err)
	}
	must(st.ReplaceRecoveryCodes(ctx, a.ID, testCodes("r", 3)))
	if ok, err := st.SwapFactorGuard(ctx, auth.FactorGuard{AccountID: a.ID, Total: 4,
		Version: 1}); !ok || err != nil {
		t.Fatalf("SwapFactorGuard: %t, %v", ok, err)
	}
	if ok, err := st.SwapThrottle(ctx, auth.Throttle{Key: "k", Count: 2, WindowStart: t0,
		Version: 1}); !ok || err != nil {
		t.Fatalf("SwapThrottle: %t, %v", ok, err)
	}
	must(st.CreateSession(ctx, newSession(a.ID, "s", t0.Add(hour))))
	must(st.AddEvent(ctx, auth.Event{AccountID: a.ID, Kind: auth.EventSignIn, At: t0}))
	must(st.CreateToken(ctx, auth.Token{Hash: []byte("tok"), Purpose: auth.TokenPasswordReset,
		AccountID: a.ID, ExpiresAt: t0.Add(hour)}))
	_, err := st.CreateRecoveryRequest(ctx, auth.RecoveryRequest{AccountID: a.ID,
		Status: auth.RequestUnconfirmed, CreatedAt: t0})
	must(err)
	if ok, err := st.PutSetting(ctx, "key", "", "v"); !ok || err != nil {
		t.Fatalf("PutSetting: %t, %v", ok, err)
	}
	return a
}

// check reads back what fill wrote.
func check(t *testing.T, st *store.Store, a auth.Account) {
	t.Helper()
	ctx := t.Context()
	got, err := st.AccountByEmail(ctx, a.Email)
	if err != nil || got != a {
		t.Errorf("account: got %+v, %v; want %+v", got, err, a)
	}
	creds := credentials(t, st, a.ID)
	if len(creds) != 1 || creds[0].LastStep != 78 || !bytes.Equal(creds[0].LastSession,
		[]byte("sess")) || string(creds[0].Secret) != "secret" {
		t.Errorf("credentials: got %+v", creds)
	}
	assertCodes(t, st, a.ID, "r", 3)
	if g, err := st.FactorGuard(ctx, a.ID); err != nil || g.Total != 4 || g.Version != 1 {
		t.Errorf("guard: got %+v, %v", g, err)
	}
	if th, err := st.Throttle(ctx, "k"); err != nil || th.Count != 2 || !th.WindowStart.Equal(t0) {
		t.Errorf("throttle: got %+v, %v", th, err)
	}
	assertSessions(t, st, map[string]bool{"s": true})
	if es, err := st.Events(ctx, a.ID, 0, 10); err != nil || len(es) != 1 {
		t.Errorf("events: got %d, %v; want 1", len(es), err)
	}
	if _, err := st.UseToken(ctx, []byte("tok"), auth.TokenPasswordReset, t0); err != nil {
		t.Errorf("UseToken: %v", err)
	}
	if v, err := st.Setting(ctx, "key"); v != "v" || err != nil {
		t.Errorf("setting: got %q, %v", v, err)
	}
}

func TestCopyTo(t *testing.T) {
	for _, pair := range [][2]string{
		{storetest.SQLite, storetest.Postgres},
		{storetest.Postgres, storetest.SQLite},
		{storetest.SQLite, storetest.SQLite},
	} {
		t.Run(pair[0]+" to "+pair[1], func(t *testing.T) {
			src, dst := storetest.Open(t, pair[0]), storetest.Open(t, pair[1])
			a := fill(t, src)
			if err := src.CopyTo(t.Context(), dst); err != nil {
				t.Fatalf("CopyTo: %v", err)
			}
			check(t, dst, a)

			// New rows after the copy get new ids, not copied ones.
			b := newAccount(t, dst, "after@example.com")
			if b.ID == a.ID {
				t.Errorf("an account after the copy got the copied id %d", a.ID)
			}
			if _, err := dst.AddPendingCredential(t.Context(),
				pendingCredential(b.ID, "x")); err != nil {
				t.Errorf("a credential after the copy: %v", err)
			}

			if err := src.CopyTo(t.Context(), dst); err == nil {
				t.Error("CopyTo into a store with rows: got nil, want an error")
			}
		})
	}
}

func TestBackup(t *testing.T) {
	st := storetest.Open(t, storetest.SQLite)
	a := fill(t, st)
	path := filepath.Join(t.TempDir(), "backup.db")
	if err := st.Backup(t.Context(), path); err != nil {
		t.Fatalf("Backup: %v", err)
	}
	check(t, storetest.OpenEmpty(t, path), a)
}
