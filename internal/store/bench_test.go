package store_test

import (
	"fmt"
	"testing"

	"github.com/clientarea/clientarea/internal/auth"
	"github.com/clientarea/clientarea/internal/store"
	"github.com/clientarea/clientarea/internal/storetest"
)

// benchStore opens a store of dialect with one account that has an
// active credential, for the benchmarks below.
func benchStore(b *testing.B, dialect string) (*store.Store, auth.Credential) {
	b.Helper()
	st := storetest.Open(b, dialect)
	ctx := b.Context()
	a, err := st.CreateAccount(ctx, auth.Account{Email: "bench@example.com",
		PasswordHash: "hash", Role: auth.RoleCustomer, Lang: "en", CreatedAt: t0})
	if err != nil {
		b.Fatalf("CreateAccount: %v", err)
	}
	c, err := st.AddPendingCredential(ctx, pendingCredential(a.ID, "secret"))
	if err != nil {
		b.Fatalf("AddPendingCredential: %v", err)
	}
	if err := st.ActivateCredential(ctx, c.ID, 0, nil, t0); err != nil {
		b.Fatalf("ActivateCredential: %v", err)
	}
	return st, c
}

// BenchmarkAdvanceStep measures the replay guard, the one write every
// accepted code makes: "won" moves the step forward each time, "replayed"
// sends the same step again and changes nothing.
func BenchmarkAdvanceStep(b *testing.B) {
	for _, dialect := range storetest.Dialects(b) {
		b.Run(dialect+"/won", func(b *testing.B) {
			st, c := benchStore(b, dialect)
			step := int64(0)
			session := []byte("0123456789abcdef0123456789abcdef")
			cpu := storetest.StartCPU(b)
			for b.Loop() {
				step++
				won, err := st.AdvanceStep(b.Context(), c.ID, step, session, "192.0.2.1")
				if err != nil || !won {
					b.Fatalf("AdvanceStep(%d): got %v, %v; want true", step, won, err)
				}
			}
			cpu.Report()
		})
		b.Run(dialect+"/replayed", func(b *testing.B) {
			st, c := benchStore(b, dialect)
			if _, err := st.AdvanceStep(b.Context(), c.ID, 1, nil, ""); err != nil {
				b.Fatalf("AdvanceStep: %v", err)
			}
			cpu := storetest.StartCPU(b)
			for b.Loop() {
				won, err := st.AdvanceStep(b.Context(), c.ID, 1, nil, "192.0.2.1")
				if err != nil || won {
					b.Fatalf("AdvanceStep replay: got %v, %v; want false", won, err)
				}
			}
			cpu.Report()
		})
	}
}

// BenchmarkSession measures the session lookup every signed-in request
// makes, among 10,000 stored sessions.
func BenchmarkSession(b *testing.B) {
	for _, dialect := range storetest.Dialects(b) {
		b.Run(dialect, func(b *testing.B) {
			st, c := benchStore(b, dialect)
			sessions := make([]auth.Session, 10000)
			for i := range sessions {
				sessions[i] = auth.Session{IDHash: auth.HashToken(fmt.Sprint(i)),
					AccountID: c.AccountID, Stage: auth.StageFull, CreatedAt: t0, LastSeen: t0,
					ExpiresAt: t0.Add(auth.DefaultPolicy().SessionLifetime)}
			}
			if err := st.BulkSessions(b.Context(), sessions); err != nil {
				b.Fatalf("BulkSessions: %v", err)
			}
			i := 0
			cpu := storetest.StartCPU(b)
			for b.Loop() {
				i = (i + 7919) % len(sessions)
				if _, _, err := st.Session(b.Context(), sessions[i].IDHash); err != nil {
					b.Fatalf("Session: %v", err)
				}
			}
			cpu.Report()
		})
	}
}
