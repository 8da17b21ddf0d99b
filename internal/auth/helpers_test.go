package auth_test

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clientarea/clientarea/internal/auth"
	"github.com/clientarea/clientarea/internal/mail"
	"github.com/clientarea/clientarea/internal/oathtool"
	"github.com/clientarea/clientarea/internal/store"
	"github.com/clientarea/clientarea/internal/storetest"
)

// Fixed values of the field cases (/work/shared/cases/README.md).
const (
	// seed20 is ASCII "12345678901234567890" in Base32.
	seed20 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	// pw is every test account's password.
	pw = "correct horse battery staple"
	// ip is the address of requests that do not care about theirs.
	ip = "192.0.2.1"
)

// t0 is the field cases' clock: Unix 1700000010, the first second of step
// N = 56666667. seed20's codes around it are N-2 276857, N-1 921300,
// N 732303, N+1 136087, N+2 253938.
var t0 = time.Unix(1700000010, 0).UTC()

// enrolLead is how long before t0 test accounts enrol: the code that turns
// 2FA on is then many steps older than the codes a test sends at t0.
const enrolLead = 10 * time.Minute

// env is a Service on a fresh database with a clock standing at t0.
type env struct {
	t      *testing.T
	st     *store.Store
	svc    *auth.Service
	clock  *storetest.Clock
	outbox string
	rand   *pinnedRand
}

func newEnv(t *testing.T, dialect string) *env {
	t.Helper()
	st := storetest.Open(t, dialect)
	clock := storetest.NewClock(t0)
	return newEnvOn(t, st, st, clock, clock.Now)
}

// newEnvOn is the env of a service on the store wrap, which is real or a
// wrapper around it, reading the time from now; clock is what the test
// moves.
func newEnvOn(t *testing.T, real *store.Store, wrap auth.Store, clock *storetest.Clock,
	now func() time.Time) *env {
	t.Helper()
	cfg, outbox := storetest.Config(t, wrap, now)
	r := &pinnedRand{}
	cfg.Rand = r
	svc, err := auth.NewService(cfg)
	if err != nil {
		t.Fatalf("NewService: %v", err)
	}
	return &env{t: t, st: real, svc: svc, clock: clock, outbox: outbox, rand: r}
}

// pinnedRand is crypto/rand, except that the bytes given to pin come out
// first. Pinning 20 bytes just before BeginEnrolment fixes the secret, since
// the new secret is the first thing BeginEnrolment reads.
type pinnedRand struct {
	mu   sync.Mutex
	next []byte
}

func (r *pinnedRand) pin(b []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next = append([]byte(nil), b...)
}

func (r *pinnedRand) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.next) > 0 {
		n := copy(p, r.next)
		r.next = r.next[n:]
		return n, nil
	}
	return rand.Read(p)
}

func meta(ip string) auth.Meta {
	return auth.Meta{IP: ip, UserAgent: "test"}
}

// newAddresses returns a source of requests each from an address not used
// before (198.51.100.1, .2, …), so that only the account's limit applies.
func newAddresses() func() auth.Meta {
	n := 0
	return func() auth.Meta {
		n++
		return meta(fmt.Sprintf("198.51.100.%d", n))
	}
}

// account creates a customer with the password pw.
func (e *env) account(email string) auth.Account {
	e.t.Helper()
	a, err := e.svc.CreateAccount(e.t.Context(), email, pw, auth.RoleCustomer)
	if err != nil {
		e.t.Fatalf("CreateAccount(%s): %v", email, err)
	}
	return a
}

// login signs in with the right password and returns the result.
func (e *env) login(a auth.Account) auth.LoginResult {
	e.t.Helper()
	r, err := e.svc.Login(e.t.Context(), a.Email, pw, meta(ip))
	if err != nil {
		e.t.Fatalf("Login(%s): %v", a.Email, err)
	}
	return r
}

// half signs in with the password and returns the half-signed-in session.
func (e *env) half(a auth.Account) string {
	e.t.Helper()
	r := e.login(a)
	if !r.SecondFactor {
		e.t.Fatalf("Login(%s): got SecondFactor false, want true", a.Email)
	}
	return r.Token
}

// signIn goes through both steps with code and returns the full session.
func (e *env) signIn(a auth.Account, code string) (string, error) {
	e.t.Helper()
	return e.svc.SecondFactor(e.t.Context(), e.half(a), code, meta(ip))
}

// enrolSeed20 turns 2FA on for a with the secret seed20, enrolLead before
// the clock's time, and returns the recovery codes. The clock is back at
// its time afterwards.
func (e *env) enrolSeed20(a auth.Account) []string {
	e.t.Helper()
	return e.enrolSeed20At(a, e.clock.Now().Add(-enrolLead))
}

// enrolSeed20At is enrolSeed20 at the time at.
func (e *env) enrolSeed20At(a auth.Account, at time.Time) []string {
	e.t.Helper()
	now := e.clock.Now()
	e.clock.Set(at)
	defer e.clock.Set(now)
	e.rand.pin([]byte("12345678901234567890"))
	secret, codes := e.enrol(a)
	if secret != seed20 {
		e.t.Fatalf("pinned enrolment secret: got %s, want %s", secret, seed20)
	}
	return codes
}

// fresh is a full session signed in just now, as the web layer passes to
// operations that need a recent sign-in.
func (e *env) fresh() auth.Session {
	return auth.Session{Stage: auth.StageFull, CreatedAt: e.clock.Now()}
}

// enrol starts an enrolment, reads the secret back, confirms it with
// oathtool's code for the clock's time, and returns the secret and the
// recovery codes.
func (e *env) enrol(a auth.Account) (string, []string) {
	e.t.Helper()
	en, err := e.svc.BeginEnrolment(e.t.Context(), e.fresh(), a)
	if err != nil {
		e.t.Fatalf("BeginEnrolment: %v", err)
	}
	code := oathtool.TOTP(e.t, en.Secret, e.clock.Now())
	codes, err := e.svc.ConfirmEnrolment(e.t.Context(), a, code, meta(ip))
	if err != nil {
		e.t.Fatalf("ConfirmEnrolment: %v", err)
	}
	return en.Secret, codes
}

// messages returns every e-mail sent so far, in order.
func (e *env) messages() []mail.Message {
	e.t.Helper()
	msgs, err := mail.ReadOutbox(e.outbox)
	if err != nil {
		e.t.Fatalf("ReadOutbox: %v", err)
	}
	return msgs
}

// Subjects of the English notices, as the customer reads them.
const (
	subjectReplayed       = "A used sign-in code was entered again"
	subjectSignupExisting = "Sign-up attempt with your address"
	subjectReset2FA       = "Two-factor authentication reset by support"
	subjectResetLink      = "Reset your password"
	subjectEnabled        = "Two-factor authentication turned on"
	subjectDisabled       = "Two-factor authentication turned off"
)

// notices returns the e-mails to whose subject contains subject.
func (e *env) notices(to, subject string) []mail.Message {
	e.t.Helper()
	var out []mail.Message
	for _, m := range e.messages() {
		if m.To == to && strings.Contains(m.Subject, subject) {
			out = append(out, m)
		}
	}
	return out
}

func (e *env) events(a auth.Account) []auth.Event {
	e.t.Helper()
	es, err := e.svc.Events(e.t.Context(), a.ID, 0, 1000)
	if err != nil {
		e.t.Fatalf("Events: %v", err)
	}
	return es
}

func (e *env) twoFactor(a auth.Account) auth.TwoFactorStatus {
	e.t.Helper()
	st, err := e.svc.TwoFactor(e.t.Context(), a)
	if err != nil {
		e.t.Fatalf("TwoFactor: %v", err)
	}
	return st
}

// wrongCode returns a code that oathtool says is none of the codes of
// secret within one step of at, so the service must refuse it as wrong.
func wrongCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	valid := oathtool.Window(t, secret, at.Add(-30*time.Second), 3)
	for _, c := range []string{"000000", "111111", "123456", "654321", "999999"} {
		if !slices.Contains(valid, c) {
			return c
		}
	}
	t.Fatal("wrongCode: every candidate is valid")
	return ""
}

// wantCode fails the test unless err is an *auth.Error with code, and
// returns it.
func wantCode(t *testing.T, err error, code auth.Code) *auth.Error {
	t.Helper()
	var e *auth.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("got error %v, want code %s", err, code)
	}
	return e
}
