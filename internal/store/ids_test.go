package store_test

import (
	"testing"

	"github.com/clientarea/clientarea/internal/storetest"
)

// TestIDsNeverReused: after the newest recovery codes and credential are
// deleted, their replacements get new ids, so a request still holding an
// old id cannot spend or advance the new row.
func TestIDsNeverReused(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ctx := t.Context()
		a := newAccount(t, st, "ids@example.com")
		if err := st.ReplaceRecoveryCodes(ctx, a.ID, testCodes("old", 3)); err != nil {
			t.Fatal(err)
		}
		old, err := st.RecoveryCodes(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.ReplaceRecoveryCodes(ctx, a.ID, testCodes("new", 3)); err != nil {
			t.Fatal(err)
		}
		for _, c := range old {
			won, err := st.UseRecoveryCode(ctx, c.ID, t0)
			if err != nil {
				t.Fatal(err)
			}
			if won {
				t.Fatalf("old code id %d spent a new code", c.ID)
			}
		}
		first := activeCredential(t, st, a.ID, 10)
		if err := st.RemoveSecondFactors(ctx, a.ID, false); err != nil {
			t.Fatal(err)
		}
		second := activeCredential(t, st, a.ID, 10)
		if second.ID == first.ID {
			t.Fatalf("the new credential took the deleted one's id %d", first.ID)
		}
	})
}
