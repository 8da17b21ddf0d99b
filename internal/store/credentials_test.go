package store_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/clientarea/clientarea/internal/auth"
	"github.com/clientarea/clientarea/internal/store"
	"github.com/clientarea/clientarea/internal/storetest"
)

// TestAddPendingCredentialRace opens an enrolment from many tabs at once:
// exactly one pending credential may exist, and every tab must be shown it.
func TestAddPendingCredentialRace(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		a := newAccount(t, st, "tabs@example.com")
		const n = 20
		got := make([]auth.Credential, n)
		errs := make([]error, n)
		storetest.Race(n, func(i int) {
			c := pendingCredential(a.ID, fmt.Sprintf("secret-%d", i))
			got[i], errs[i] = st.AddPendingCredential(t.Context(), c)
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("goroutine %d: AddPendingCredential: %v", i, err)
			}
		}
		creds := credentials(t, st, a.ID)
		if len(creds) != 1 || creds[0].Status != auth.StatusPending {
			t.Fatalf("stored credentials: got %+v, want one pending", creds)
		}
		for i, c := range got {
			if c.ID != creds[0].ID || !bytes.Equal(c.Secret, creds[0].Secret) {
				t.Errorf("goroutine %d: got credential %d %q, want %d %q",
					i, c.ID, c.Secret, creds[0].ID, creds[0].Secret)
			}
		}
	})
}

func TestActivateCredential(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ctx := t.Context()
		a := newAccount(t, st, "devices@example.com")
		other := newAccount(t, st, "other@example.com")
		otherCred := activeCredential(t, st, other.ID, 7)

		first, err := st.AddPendingCredential(ctx, pendingCredential(a.ID, "first"))
		if err != nil {
			t.Fatalf("AddPendingCredential: %v", err)
		}
		if err := st.ActivateCredential(ctx, first.ID, 100, testCodes("one", 10), t0); err != nil {
			t.Fatalf("ActivateCredential(first): %v", err)
		}
		err = st.ActivateCredential(ctx, first.ID, 101, nil, t0)
		if !errors.Is(err, auth.ErrConflict) {
			t.Errorf("ActivateCredential twice: got %v, want ErrConflict", err)
		}
		creds := credentials(t, st, a.ID)
		if len(creds) != 1 || creds[0].Status != auth.StatusActive || creds[0].LastStep != 100 ||
			!creds[0].ActivatedAt.Equal(t0) || creds[0].PendingCodes != nil {
			t.Fatalf("after first activation: got %+v, want one active, step 100", creds)
		}

		// A wrong code counted before the new device is confirmed.
		if ok, err := st.SwapFactorGuard(ctx, auth.FactorGuard{AccountID: a.ID,
			Consecutive: 3, Total: 3, Version: 1}); !ok || err != nil {
			t.Fatalf("SwapFactorGuard: got %t, %v", ok, err)
		}

		// A new device, with new recovery codes: the old device and codes go.
		second, err := st.AddPendingCredential(ctx, pendingCredential(a.ID, "second"))
		if err != nil {
			t.Fatalf("AddPendingCredential(second): %v", err)
		}
		if second.ID == first.ID {
			t.Fatalf("a second pending credential reused the active one's id %d", first.ID)
		}
		err = st.ActivateCredential(ctx, second.ID, 200, testCodes("two", 10), t0)
		if err != nil {
			t.Fatalf("ActivateCredential(second): %v", err)
		}
		creds = credentials(t, st, a.ID)
		if len(creds) != 1 || creds[0].ID != second.ID || creds[0].Status != auth.StatusActive {
			t.Fatalf("after second activation: got %+v, want only credential %d active",
				creds, second.ID)
		}
		assertCodes(t, st, a.ID, "two", 10)
		g, err := st.FactorGuard(ctx, a.ID)
		if err != nil || g.Total != 0 || g.Version != 0 {
			t.Errorf("guard after activation: got %+v, %v; want cleared", g, err)
		}

		// A third device without codes keeps the codes it has.
		third, err := st.AddPendingCredential(ctx, pendingCredential(a.ID, "third"))
		if err != nil {
			t.Fatalf("AddPendingCredential(third): %v", err)
		}
		if err := st.ActivateCredential(ctx, third.ID, 300, nil, t0); err != nil {
			t.Fatalf("ActivateCredential(third): %v", err)
		}
		assertCodes(t, st, a.ID, "two", 10)

		// Nothing of another account was touched.
		oc := credentials(t, st, other.ID)
		if len(oc) != 1 || oc[0].ID != otherCred.ID || oc[0].Status != auth.StatusActive {
			t.Errorf("other account's credentials: got %+v, want %d active", oc, otherCred.ID)
		}
	})
}

func assertCodes(t *testing.T, st *store.Store, accountID int64, prefix string, n int) {
	t.Helper()
	codes, err := st.RecoveryCodes(t.Context(), accountID)
	if err != nil {
		t.Fatalf("RecoveryCodes: %v", err)
	}
	if len(codes) != n {
		t.Fatalf("recovery codes: got %d, want %d", len(codes), n)
	}
	for _, c := range codes {
		if !bytes.HasPrefix(c.Hash, []byte(prefix+"-")) {
			t.Errorf("recovery code hash %q: want one of set %q", c.Hash, prefix)
		}
	}
}

func TestAdvanceStep(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ctx := t.Context()
		a := newAccount(t, st, "steps@example.com")
		c := activeCredential(t, st, a.ID, 1000)

		// 50 requests carry codes of one step: exactly one may sign in.
		const n = 50
		oks := make([]bool, n)
		errs := make([]error, n)
		storetest.Race(n, func(i int) {
			session := fmt.Appendf(nil, "session-%d", i)
			oks[i], errs[i] = st.AdvanceStep(ctx, c.ID, 1001, session, "192.0.2.1")
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("goroutine %d: AdvanceStep: %v", i, err)
			}
		}
		if got := countTrue(oks); got != 1 {
			t.Fatalf("winners: got %d, want 1", got)
		}
		winner := countTrueIndex(oks)
		stored := credentials(t, st, a.ID)[0]
		want := fmt.Appendf(nil, "session-%d", winner)
		if stored.LastStep != 1001 || !bytes.Equal(stored.LastSession, want) ||
			stored.LastIP != "192.0.2.1" {
			t.Errorf("stored: got step %d session %q ip %q; want 1001 %q 192.0.2.1",
				stored.LastStep, stored.LastSession, stored.LastIP, want)
		}

		tests := []struct {
			step int64
			want bool
		}{
			{1001, false}, // the same step again
			{1000, false}, // an earlier step
			{-1, false},
			{1003, true}, // later, skipping one
			{1002, false},
			{1003, false},
		}
		for _, tt := range tests {
			ok, err := st.AdvanceStep(ctx, c.ID, tt.step, []byte("s"), "192.0.2.2")
			if err != nil || ok != tt.want {
				t.Errorf("AdvanceStep(%d): got %t, %v; want %t", tt.step, ok, err, tt.want)
			}
		}

		// A pending credential is not a factor yet and accepts no step.
		p, err := st.AddPendingCredential(ctx, pendingCredential(a.ID, "new"))
		if err != nil {
			t.Fatalf("AddPendingCredential: %v", err)
		}
		if ok, err := st.AdvanceStep(ctx, p.ID, 5000, nil, ""); ok || err != nil {
			t.Errorf("AdvanceStep(pending): got %t, %v; want false", ok, err)
		}
	})
}

func countTrueIndex(oks []bool) int {
	for i, ok := range oks {
		if ok {
			return i
		}
	}
	return -1
}

func TestUseRecoveryCode(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ctx := t.Context()
		a := newAccount(t, st, "codes@example.com")
		if err := st.ReplaceRecoveryCodes(ctx, a.ID, testCodes("r", 10)); err != nil {
			t.Fatalf("ReplaceRecoveryCodes: %v", err)
		}
		codes, err := st.RecoveryCodes(ctx, a.ID)
		if err != nil || len(codes) != 10 {
			t.Fatalf("RecoveryCodes: got %d, %v; want 10", len(codes), err)
		}

		const n = 30
		oks := make([]bool, n)
		errs := make([]error, n)
		storetest.Race(n, func(i int) { oks[i], errs[i] = st.UseRecoveryCode(ctx, codes[0].ID, t0) })
		for i, err := range errs {
			if err != nil {
				t.Fatalf("goroutine %d: UseRecoveryCode: %v", i, err)
			}
		}
		if got := countTrue(oks); got != 1 {
			t.Fatalf("winners: got %d, want 1", got)
		}
		left, err := st.RecoveryCodes(ctx, a.ID)
		if err != nil || len(left) != 9 {
			t.Fatalf("RecoveryCodes after use: got %d, %v; want 9", len(left), err)
		}
		for _, c := range left {
			if c.ID == codes[0].ID {
				t.Errorf("the used code %d is still listed", c.ID)
			}
		}

		// New codes replace every old one, used or not.
		if err := st.ReplaceRecoveryCodes(ctx, a.ID, testCodes("s", 10)); err != nil {
			t.Fatalf("ReplaceRecoveryCodes: %v", err)
		}
		// No check that an old code's id is now refused: SQLite reuses the
		// rowids of deleted rows, so the id may name one of the new codes.
		assertCodes(t, st, a.ID, "s", 10)
	})
}

func TestRemoveSecondFactors(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		for _, endSessions := range []bool{false, true} {
			t.Run(fmt.Sprintf("endSessions=%t", endSessions), func(t *testing.T) {
				st := storetest.Open(t, dialect)
				ctx := t.Context()
				a := newAccount(t, st, "remove@example.com")
				activeCredential(t, st, a.ID, 1)
				_, err := st.AddPendingCredential(ctx, pendingCredential(a.ID, "p"))
				if err != nil {
					t.Fatalf("AddPendingCredential: %v", err)
				}
				if err := st.ReplaceRecoveryCodes(ctx, a.ID, testCodes("r", 10)); err != nil {
					t.Fatalf("ReplaceRecoveryCodes: %v", err)
				}
				sess := newSession(a.ID, "s1", t0.Add(hour))
				if err := st.CreateSession(ctx, sess); err != nil {
					t.Fatalf("CreateSession: %v", err)
				}

				if err := st.RemoveSecondFactors(ctx, a.ID, endSessions); err != nil {
					t.Fatalf("RemoveSecondFactors: %v", err)
				}
				if creds := credentials(t, st, a.ID); len(creds) != 0 {
					t.Errorf("credentials: got %d, want 0", len(creds))
				}
				if codes, err := st.RecoveryCodes(ctx, a.ID); len(codes) != 0 || err != nil {
					t.Errorf("recovery codes: got %d, %v; want 0", len(codes), err)
				}
				_, _, err = st.Session(ctx, sess.IDHash)
				if gone := errors.Is(err, auth.ErrNotFound); gone != endSessions {
					t.Errorf("session gone: got %t (%v), want %t", gone, err, endSessions)
				}
			})
		}
	})
}

func TestResealSecret(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ctx := t.Context()
		a := newAccount(t, st, "reseal@example.com")
		active := activeCredential(t, st, a.ID, 1)
		pc := pendingCredential(a.ID, "pending-secret")
		pc.PendingCodes = []byte("pending-codes")
		pending, err := st.AddPendingCredential(ctx, pc)
		if err != nil {
			t.Fatalf("AddPendingCredential: %v", err)
		}

		tests := []struct {
			name                           string
			id                             int64
			old, secret, oldCodes, codes   string
			want                           bool
			wantSecret, wantCodes          string
			nilOldCodes, nilCodes, nilWant bool
		}{
			{name: "active, stale secret", id: active.ID, old: "other", secret: "s2",
				nilOldCodes: true, nilCodes: true, want: false, wantSecret: "secret",
				nilWant: true},
			{name: "active, codes where none", id: active.ID, old: "secret", secret: "s2",
				oldCodes: "x", nilCodes: true, want: false, wantSecret: "secret", nilWant: true},
			{name: "active", id: active.ID, old: "secret", secret: "s2", nilOldCodes: true,
				nilCodes: true, want: true, wantSecret: "s2", nilWant: true},
			{name: "active again with the old blob", id: active.ID, old: "secret",
				secret: "s3", nilOldCodes: true, nilCodes: true, want: false,
				wantSecret: "s2", nilWant: true},
			{name: "pending, stale codes", id: pending.ID, old: "pending-secret",
				secret: "p2", oldCodes: "other", codes: "c2", want: false,
				wantSecret: "pending-secret", wantCodes: "pending-codes"},
			{name: "pending, codes taken for none", id: pending.ID, old: "pending-secret",
				secret: "p2", nilOldCodes: true, codes: "c2", want: false,
				wantSecret: "pending-secret", wantCodes: "pending-codes"},
			{name: "pending", id: pending.ID, old: "pending-secret", secret: "p2",
				oldCodes: "pending-codes", codes: "c2", want: true, wantSecret: "p2",
				wantCodes: "c2"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				oldCodes, codes := []byte(tt.oldCodes), []byte(tt.codes)
				if tt.nilOldCodes {
					oldCodes = nil
				}
				if tt.nilCodes {
					codes = nil
				}
				ok, err := st.ResealSecret(ctx, tt.id, []byte(tt.old), []byte(tt.secret),
					oldCodes, codes)
				if err != nil || ok != tt.want {
					t.Fatalf("ResealSecret: got %t, %v; want %t", ok, err, tt.want)
				}
				var c auth.Credential
				for _, x := range credentials(t, st, a.ID) {
					if x.ID == tt.id {
						c = x
					}
				}
				if string(c.Secret) != tt.wantSecret {
					t.Errorf("secret: got %q, want %q", c.Secret, tt.wantSecret)
				}
				gotNil := c.PendingCodes == nil
				if gotNil != tt.nilWant || string(c.PendingCodes) != tt.wantCodes {
					t.Errorf("pending codes: got %q (nil %t), want %q (nil %t)",
						c.PendingCodes, c.PendingCodes == nil, tt.wantCodes, tt.nilWant)
				}
			})
		}

		// SealedSecrets pages through every credential for the rotation.
		page, err := st.SealedSecrets(ctx, 0, 1)
		if err != nil || len(page) != 1 || page[0].ID != active.ID {
			t.Fatalf("SealedSecrets(0, 1): got %+v, %v; want credential %d", page, err, active.ID)
		}
		page, err = st.SealedSecrets(ctx, page[0].ID, 10)
		if err != nil || len(page) != 1 || page[0].ID != pending.ID {
			t.Errorf("SealedSecrets(after): got %+v, %v; want credential %d", page, err,
				pending.ID)
		}
	})
}
