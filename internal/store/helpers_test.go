package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/clientarea/clientarea/internal/auth"
	"github.com/clientarea/clientarea/internal/store"
)

// t0 is the field cases' clock, Unix 1700000010; every stored time is whole
// seconds, so times built from it survive a round trip unchanged.
var t0 = time.Unix(1700000010, 0).UTC()

func newAccount(t *testing.T, st *store.Store, email string) auth.Account {
	t.Helper()
	a, err := st.CreateAccount(t.Context(), auth.Account{Email: email, PasswordHash: "hash",
		Role: auth.RoleCustomer, Lang: "en", CreatedAt: t0})
	if err != nil {
		t.Fatalf("CreateAccount(%s): %v", email, err)
	}
	return a
}

func pendingCredential(accountID int64, secret string) auth.Credential {
	return auth.Credential{AccountID: accountID, Kind: auth.KindTOTP, Name: "app",
		Status: auth.StatusPending, Secret: []byte(secret), CreatedAt: t0}
}

func testCodes(prefix string, n int) []auth.RecoveryCode {
	codes := make([]auth.RecoveryCode, n)
	for i := range codes {
		codes[i] = auth.RecoveryCode{Salt: []byte(prefix + "-salt"),
			Hash: fmt.Appendf(nil, "%s-%d", prefix, i)}
	}
	return codes
}

// activeCredential enrols and activates a credential with last step lastStep.
func activeCredential(t *testing.T, st *store.Store, accountID, lastStep int64) auth.Credential {
	t.Helper()
	c, err := st.AddPendingCredential(t.Context(), pendingCredential(accountID, "secret"))
	if err != nil {
		t.Fatalf("AddPendingCredential: %v", err)
	}
	if err := st.ActivateCredential(t.Context(), c.ID, lastStep, nil, t0); err != nil {
		t.Fatalf("ActivateCredential: %v", err)
	}
	return c
}

func credentials(t *testing.T, st *store.Store, accountID int64) []auth.Credential {
	t.Helper()
	creds, err := st.Credentials(t.Context(), accountID)
	if err != nil {
		t.Fatalf("Credentials: %v", err)
	}
	return creds
}

func countTrue(oks []bool) int {
	n := 0
	for _, ok := range oks {
		if ok {
			n++
		}
	}
	return n
}
