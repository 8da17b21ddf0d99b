package auth_test

import (
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/clientarea/clientarea/internal/auth"
	"github.com/clientarea/clientarea/internal/store"
	"github.com/clientarea/clientarea/internal/storetest"
	"github.com/clientarea/clientarea/internal/totp"
)

// benchSecret is account i's TOTP secret, derived so that nothing needs
// to remember a secret per account.
func benchSecret(i int) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(i))
	sum := sha1.Sum(b[:])
	return sum[:]
}

// benchEnv is a service on a store of dialect holding n accounts with 2FA
// on (loaded in bulk, not enrolled one by one) and one session of stage
// per account, whose ids it returns. The clock stands at t0.
func benchEnv(b *testing.B, dialect string, n int, stage auth.Stage) (*auth.Service, []string) {
	b.Helper()
	st := storetest.Open(b, dialect)
	cfg, _ := storetest.Config(b, st, func() time.Time { return t0 })
	svc, err := auth.NewService(cfg)
	if err != nil {
		b.Fatalf("NewService: %v", err)
	}
	err = st.BulkAccounts(b.Context(), n, "unused", t0.Add(-time.Hour),
		func(i int, id int64) (store.BulkAccount, error) {
			secret, err := cfg.Keyring.Seal(benchSecret(i), auth.SecretAD(id))
			return store.BulkAccount{Email: fmt.Sprintf("bench-%d@example.com", i),
				Secret: secret}, err
		})
	if err != nil {
		b.Fatalf("BulkAccounts: %v", err)
	}
	first, err := svc.AccountByEmail(b.Context(), "bench-0@example.com")
	if err != nil {
		b.Fatalf("AccountByEmail: %v", err)
	}
	lifetime := auth.DefaultPolicy().HalfSignInWindow
	if stage == auth.StageFull {
		lifetime = auth.DefaultPolicy().SessionLifetime
	}
	tokens := make([]string, n)
	sessions := make([]auth.Session, n)
	for i := range n {
		tokens[i] = fmt.Sprintf("bench-session-%d", i)
		sessions[i] = auth.Session{IDHash: auth.HashToken(tokens[i]), AccountID: first.ID + int64(i),
			Stage: stage, CreatedAt: t0, LastSeen: t0, ExpiresAt: t0.Add(lifetime), IP: ip,
			UserAgent: "bench"}
	}
	if err := st.BulkSessions(b.Context(), sessions); err != nil {
		b.Fatalf("BulkSessions: %v", err)
	}
	return svc, tokens
}

// BenchmarkSecondFactor measures one whole second-factor step as the
// service runs it: the session and account lookup, the guessing counter,
// the secret's decryption, the code check over the window, the replay
// guard, the security event and the step-up to a full session. Each
// iteration is another account, since an account accepts one code a step.
func BenchmarkSecondFactor(b *testing.B) {
	for _, dialect := range storetest.Dialects(b) {
		b.Run(dialect, func(b *testing.B) {
			svc, tokens := benchEnv(b, dialect, b.N, auth.StagePassword)
			ctx, m := b.Context(), meta(ip)
			cpu := storetest.StartCPU(b)
			for i := range b.N {
				code := totp.Code(benchSecret(i), t0)
				if _, err := svc.SecondFactor(ctx, tokens[i], code, m); err != nil {
					b.Fatalf("SecondFactor: %v", err)
				}
			}
			cpu.Report()
		})
	}
}

// BenchmarkAuthenticate measures the session lookup in front of every
// signed-in request, among 10,000 sessions.
func BenchmarkAuthenticate(b *testing.B) {
	for _, dialect := range storetest.Dialects(b) {
		b.Run(dialect, func(b *testing.B) {
			svc, tokens := benchEnv(b, dialect, 10000, auth.StageFull)
			i := 0
			cpu := storetest.StartCPU(b)
			for b.Loop() {
				i = (i + 7919) % len(tokens)
				if _, _, err := svc.RequireFull(b.Context(), tokens[i]); err != nil {
					b.Fatalf("RequireFull: %v", err)
				}
			}
			cpu.Report()
		})
	}
}
