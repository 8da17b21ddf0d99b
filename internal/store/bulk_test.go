package store_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/clientarea/clientarea/internal/auth"
	"github.com/clientarea/clientarea/internal/store"
	"github.com/clientarea/clientarea/internal/storetest"
)

func TestBulkAccounts(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ctx := t.Context()
		first := newAccount(t, st, "first@example.com")
		var gotIDs []int64
		err := st.BulkAccounts(ctx, 3, "shared-hash", t0, func(i int, id int64) (
			store.BulkAccount, error) {
			gotIDs = append(gotIDs, id)
			return store.BulkAccount{Email: fmt.Sprintf("bulk-%d@example.com", i),
				Secret: fmt.Appendf(nil, "sealed-%d", id),
				Codes:  testCodes(fmt.Sprint(i), 2)}, nil
		})
		if err != nil {
			t.Fatalf("BulkAccounts: %v", err)
		}
		wantIDs := []int64{first.ID + 1, first.ID + 2, first.ID + 3}
		if fmt.Sprint(gotIDs) != fmt.Sprint(wantIDs) {
			t.Fatalf("ids given to the callback: got %v, want %v", gotIDs, wantIDs)
		}
		for i, id := range wantIDs {
			email := fmt.Sprintf("bulk-%d@example.com", i)
			a, err := st.AccountByEmail(ctx, email)
			if err != nil {
				t.Fatalf("AccountByEmail(%s): %v", email, err)
			}
			if a.ID != id || a.PasswordHash != "shared-hash" || a.Role != auth.RoleCustomer ||
				!a.CreatedAt.Equal(t0) {
				t.Errorf("account %d: got %+v, want id %d, shared-hash, customer, %v",
					i, a, id, t0)
			}
			creds := credentials(t, st, id)
			want := fmt.Appendf(nil, "sealed-%d", id)
			if len(creds) != 1 || creds[0].Status != auth.StatusActive ||
				creds[0].Kind != auth.KindTOTP || !bytes.Equal(creds[0].Secret, want) {
				t.Errorf("account %d credentials: got %+v, want one active totp %q",
					i, creds, want)
			}
			codes, err := st.RecoveryCodes(ctx, id)
			if err != nil || len(codes) != 2 {
				t.Errorf("account %d recovery codes: got %d (%v), want 2", i, len(codes), err)
			}
		}
		// The id sequence must move past the loaded ids, or the next
		// sign-up would collide with them.
		next := newAccount(t, st, "next@example.com")
		if next.ID != first.ID+4 {
			t.Errorf("next account id: got %d, want %d", next.ID, first.ID+4)
		}
	})
}

func TestBulkSessions(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		a := newAccount(t, st, "a@example.com")
		var sessions []auth.Session
		for i := range 3 {
			sessions = append(sessions, auth.Session{IDHash: []byte{byte(i), 1, 2, 3},
				AccountID: a.ID, Stage: auth.StagePassword, CreatedAt: t0, LastSeen: t0,
				ExpiresAt: t0.Add(5 * time.Minute), IP: "192.0.2.1", UserAgent: "bench"})
		}
		if err := st.BulkSessions(t.Context(), sessions); err != nil {
			t.Fatalf("BulkSessions: %v", err)
		}
		for _, want := range sessions {
			got, _, err := st.Session(t.Context(), want.IDHash)
			if err != nil {
				t.Fatalf("Session(%x): %v", want.IDHash, err)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("Session(%x): got %+v, want %+v", want.IDHash, got, want)
			}
		}
	})
}

func TestDatabaseSize(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		before, err := st.DatabaseSize(t.Context())
		if err != nil || before <= 0 {
			t.Fatalf("DatabaseSize: got %d, %v; want a positive size", before, err)
		}
		err = st.BulkAccounts(t.Context(), 2000, "hash", t0, func(i int, id int64) (
			store.BulkAccount, error) {
			return store.BulkAccount{Email: fmt.Sprintf("%d@example.com", i),
				Secret: bytes.Repeat([]byte{1}, 64)}, nil
		})
		if err != nil {
			t.Fatalf("BulkAccounts: %v", err)
		}
		if err := st.Analyze(t.Context()); err != nil {
			t.Fatalf("Analyze: %v", err)
		}
		after, err := st.DatabaseSize(t.Context())
		// 2000 rows of at least 64 bytes of secret each: 128 kB at least.
		if err != nil || after-before < 2000*64 {
			t.Errorf("DatabaseSize after 2000 accounts: got %d more bytes (%v), want >= %d",
				after-before, err, 2000*64)
		}
	})
}
