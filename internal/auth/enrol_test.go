package auth_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clientarea/clientarea/internal/auth"
	"github.com/clientarea/clientarea/internal/oathtool"
	"github.com/clientarea/clientarea/internal/storetest"
)

// TestEnrolmentNeedsRightCode is field case C16: 2FA stays off until a
// right code confirms the secret, and that code cannot sign in afterwards.
func TestEnrolmentNeedsRightCode(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		a := e.account("enable@example.com")
		off := func(when string) {
			t.Helper()
			if st := e.twoFactor(a); st.Enabled || !st.Pending {
				t.Errorf("%s: got %+v, want off and pending", when, st)
			}
			r := e.login(a)
			if r.SecondFactor {
				t.Errorf("%s: Login asks for a code, want none", when)
			}
			if _, _, err := e.svc.RequireFull(t.Context(), r.Token); err != nil {
				t.Errorf("%s: RequireFull: %v", when, err)
			}
		}

		e.rand.pin([]byte("12345678901234567890"))
		en, err := e.svc.BeginEnrolment(t.Context(), e.fresh(), a)
		if err != nil {
			t.Fatalf("BeginEnrolment: %v", err)
		}
		if en.Secret != seed20 || en.NewDevice || len(en.RecoveryCodes) != 10 {
			t.Fatalf("enrolment: got secret %s, new device %t, %d codes; want %s, false, 10",
				en.Secret, en.NewDevice, len(en.RecoveryCodes), seed20)
		}
		if !strings.Contains(en.URI, "secret="+seed20) {
			t.Errorf("key URI %q: want secret=%s", en.URI, seed20)
		}
		off("after opening the enrolment")

		_, err = e.svc.ConfirmEnrolment(t.Context(), a, "000000", meta(ip))
		wantCode(t, err, auth.CodeInvalidCode)
		_, err = e.svc.ConfirmEnrolment(t.Context(), a, "73230", meta(ip))
		wantCode(t, err, auth.CodeInvalidCodeFormat)
		off("after a wrong code")
		if got := len(e.notices(a.Email, subjectEnabled)); got != 0 {
			t.Errorf("enabled notices before confirming: got %d, want 0", got)
		}

		codes, err := e.svc.ConfirmEnrolment(t.Context(), a, "732303", meta(ip))
		if err != nil {
			t.Fatalf("ConfirmEnrolment(right code): %v", err)
		}
		if !slices.Equal(codes, en.RecoveryCodes) {
			t.Errorf("recovery codes: got %q, want the ones shown at enrolment %q",
				codes, en.RecoveryCodes)
		}
		if st := e.twoFactor(a); !st.Enabled || st.Pending || st.RecoveryCodesLeft != 10 {
			t.Errorf("after confirming: got %+v, want on, 10 codes", st)
		}
		if got := len(e.notices(a.Email, subjectEnabled)); got != 1 {
			t.Errorf("enabled notices: got %d, want 1", got)
		}
		_, err = e.svc.PendingEnrolment(t.Context(), a)
		wantCode(t, err, auth.CodeNotFound)
		_, err = e.svc.ConfirmEnrolment(t.Context(), a, "136087", meta(ip))
		wantCode(t, err, auth.CodeNotFound)

		_, err = e.signIn(a, "732303")
		wantCode(t, err, auth.CodeInvalidCode)
		e.clock.Add(30 * time.Second)
		if _, err := e.signIn(a, "136087"); err != nil {
			t.Errorf("the next code: %v", err)
		}
	})
}

// TestEnrolmentSecretStable is field case C17: the pending secret survives
// reloads and wrong codes; a new device left pending does not break the
// active secret, and confirming it retires the old one.
func TestEnrolmentSecretStable(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := t.Context()
		a := e.account("stable@example.com")
		begin := func() auth.Enrolment {
			t.Helper()
			en, err := e.svc.BeginEnrolment(ctx, e.fresh(), a)
			if err != nil {
				t.Fatalf("BeginEnrolment: %v", err)
			}
			return en
		}

		first := begin()
		if again := begin(); again.Secret != first.Secret ||
			!slices.Equal(again.RecoveryCodes, first.RecoveryCodes) {
			t.Fatalf("reload: got secret %s, want %s", again.Secret, first.Secret)
		}
		wrong := wrongCode(t, first.Secret, e.clock.Now())
		_, err := e.svc.ConfirmEnrolment(ctx, a, wrong, meta(ip))
		wantCode(t, err, auth.CodeInvalidCode)
		if again := begin(); again.Secret != first.Secret {
			t.Fatalf("reload after a wrong code: got secret %s, want %s", again.Secret,
				first.Secret)
		}
		if p, err := e.svc.PendingEnrolment(ctx, a); err != nil || p.Secret != first.Secret {
			t.Fatalf("PendingEnrolment: got %s, %v; want %s", p.Secret, err, first.Secret)
		}
		code := oathtool.TOTP(t, first.Secret, e.clock.Now())
		if _, err := e.svc.ConfirmEnrolment(ctx, a, code, meta(ip)); err != nil {
			t.Fatalf("ConfirmEnrolment: %v", err)
		}

		// A new phone: the enrolment is opened and left, twice.
		e.clock.Add(time.Minute)
		second := begin()
		if second.Secret == first.Secret || !second.NewDevice || second.RecoveryCodes != nil {
			t.Fatalf("new device: got %+v, want a new secret, NewDevice, no codes", second)
		}
		if _, err := e.signIn(a, oathtool.TOTP(t, first.Secret, e.clock.Now())); err != nil {
			t.Fatalf("old app while a new device is pending: %v", err)
		}
		e.clock.Add(30 * time.Second)
		_, err = e.signIn(a, oathtool.TOTP(t, second.Secret, e.clock.Now()))
		wantCode(t, err, auth.CodeInvalidCode)
		if again := begin(); again.Secret != second.Secret {
			t.Fatalf("new device reload: got secret %s, want %s", again.Secret, second.Secret)
		}

		code = oathtool.TOTP(t, second.Secret, e.clock.Now())
		codes, err := e.svc.ConfirmEnrolment(ctx, a, code, meta(ip))
		if err != nil || codes != nil {
			t.Fatalf("ConfirmEnrolment(new device): got %q, %v; want no codes", codes, err)
		}
		if st := e.twoFactor(a); len(st.Devices) != 1 || st.RecoveryCodesLeft != 10 {
			t.Errorf("after the new device: got %+v, want 1 device, 10 codes", st)
		}
		e.clock.Add(30 * time.Second)
		_, err = e.signIn(a, oathtool.TOTP(t, first.Secret, e.clock.Now()))
		wantCode(t, err, auth.CodeInvalidCode)
		if _, err := e.signIn(a, oathtool.TOTP(t, second.Secret, e.clock.Now())); err != nil {
			t.Fatalf("new app: %v", err)
		}

		// A cancelled enrolment leaves the active app alone too.
		e.clock.Add(30 * time.Second)
		if third := begin(); third.Secret == second.Secret {
			t.Fatal("a new enrolment reused the active secret")
		}
		if err := e.svc.CancelEnrolment(ctx, a); err != nil {
			t.Fatalf("CancelEnrolment: %v", err)
		}
		if _, err := e.signIn(a, oathtool.TOTP(t, second.Secret, e.clock.Now())); err != nil {
			t.Errorf("active app after a cancelled enrolment: %v", err)
		}
	})
}

func TestDisableTwoFactor(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := t.Context()
		a := e.account("disable@example.com")
		e.enrolSeed20(a)

		tests := []struct {
			name     string
			password string
			code     string
			want     auth.Code
		}{
			{"wrong password", "wrong password", "732303", auth.CodeInvalidCredentials},
			{"wrong code", pw, "000000", auth.CodeInvalidCode},
			{"no code", pw, "", auth.CodeInvalidCodeFormat},
			{"unknown recovery code", pw, wrongRecovery, auth.CodeInvalidCode},
		}
		for _, tt := range tests {
			err := e.svc.DisableTwoFactor(ctx, a, tt.password, tt.code, meta(ip))
			if auth.ErrorCode(err) != tt.want {
				t.Errorf("%s: got %v, want %s", tt.name, err, tt.want)
			}
			if !e.twoFactor(a).Enabled {
				t.Fatalf("%s: 2FA went off", tt.name)
			}
		}

		if err := e.svc.DisableTwoFactor(ctx, a, pw, "732303", meta(ip)); err != nil {
			t.Fatalf("DisableTwoFactor: %v", err)
		}
		if st := e.twoFactor(a); st.Enabled || st.RecoveryCodesLeft != 0 {
			t.Errorf("after disabling: got %+v, want off", st)
		}
		if e.login(a).SecondFactor {
			t.Error("Login after disabling asks for a code")
		}
		if got := len(e.notices(a.Email, subjectDisabled)); got != 1 {
			t.Errorf("disabled notices: got %d, want 1", got)
		}
		err := e.svc.DisableTwoFactor(ctx, a, pw, "136087", meta(ip))
		wantCode(t, err, auth.CodeConflict)
	})
}

// wrongRecovery is a well-formed recovery code that no test account has.
const wrongRecovery = "0000-0000-0000"

func TestRegenerateRecoveryCodes(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := t.Context()
		a := e.account("regen@example.com")
		old := e.enrolSeed20(a)

		_, err := e.svc.RegenerateRecoveryCodes(ctx, a, "000000", meta(ip))
		wantCode(t, err, auth.CodeInvalidCode)
		_, err = e.svc.RegenerateRecoveryCodes(ctx, a, old[0], meta(ip))
		wantCode(t, err, auth.CodeInvalidCodeFormat) // a recovery code is not enough

		fresh, err := e.svc.RegenerateRecoveryCodes(ctx, a, "732303", meta(ip))
		if err != nil {
			t.Fatalf("RegenerateRecoveryCodes: %v", err)
		}
		if len(fresh) != 10 {
			t.Fatalf("new codes: got %d, want 10", len(fresh))
		}
		for _, c := range fresh {
			if slices.Contains(old, c) {
				t.Errorf("new code %s was an old one", c)
			}
		}
		for _, c := range old[:3] {
			_, _, err := e.svc.RecoverySignIn(ctx, e.half(a), c, meta(ip))
			wantCode(t, err, auth.CodeInvalidCode)
		}
		_, left, err := e.svc.RecoverySignIn(ctx, e.half(a), fresh[0], meta(ip))
		if err != nil || left != 9 {
			t.Errorf("RecoverySignIn(new code): got %d left, %v; want 9", left, err)
		}
	})
}

func TestResetTwoFactor(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := t.Context()
		a := e.account("reset2fa@example.com")
		e.enrolSeed20(a)
		full, err := e.signIn(a, "732303")
		if err != nil {
			t.Fatalf("sign in: %v", err)
		}
		half := e.half(a)
		const reason = "called back on the phone number on file"

		tests := []struct {
			name, email, reason, operator string
			want                          auth.Code
		}{
			{"no reason", a.Email, "", "op", auth.CodeInvalidInput},
			{"blank reason", a.Email, " \t ", "op", auth.CodeInvalidInput},
			{"no operator", a.Email, reason, "", auth.CodeInvalidInput},
			{"unknown e-mail", "nobody@example.com", reason, "op", auth.CodeNotFound},
		}
		for _, tt := range tests {
			err := e.svc.ResetTwoFactor(ctx, tt.email, tt.reason, tt.operator, meta(ip))
			if auth.ErrorCode(err) != tt.want {
				t.Errorf("%s: got %v, want %s", tt.name, err, tt.want)
			}
		}
		if !e.twoFactor(a).Enabled {
			t.Fatal("a refused reset turned 2FA off")
		}

		if err := e.svc.ResetTwoFactor(ctx, a.Email, reason, "op", meta(ip)); err != nil {
			t.Fatalf("ResetTwoFactor: %v", err)
		}
		for _, token := range []string{full, half} {
			_, _, err := e.svc.Authenticate(ctx, token)
			wantCode(t, err, auth.CodeUnauthenticated)
		}
		if st := e.twoFactor(a); st.Enabled || st.RecoveryCodesLeft != 0 {
			t.Errorf("after reset: got %+v, want off", st)
		}
		if e.login(a).SecondFactor {
			t.Error("Login after a reset asks for a code")
		}
		var found bool
		for _, ev := range e.events(a) {
			if ev.Kind == auth.EventTwoFactorReset {
				found = strings.Contains(ev.Detail, "op") && strings.Contains(ev.Detail, reason)
			}
		}
		if !found {
			t.Error("no 2fa_reset event naming the operator and the reason")
		}
		mails := e.notices(a.Email, subjectReset2FA)
		if len(mails) != 1 {
			t.Fatalf("reset notices: got %d, want 1", len(mails))
		}
		if strings.Contains(mails[0].Text, reason) {
			t.Error("the reset notice quotes support's reason")
		}
	})
}

// TestNewDeviceNeedsRecentSignIn: a session signed in long ago, such as
// one left open or stolen, cannot replace the customer's authenticator.
func TestNewDeviceNeedsRecentSignIn(t *testing.T) {
	e := newEnv(t, storetest.SQLite)
	a := e.account("sudo@example.com")
	e.enrol(a)
	old := e.fresh()
	e.clock.Add(16 * time.Minute)
	_, err := e.svc.BeginEnrolment(t.Context(), old, a)
	wantCode(t, err, auth.CodeReauthenticate)
	if st := e.twoFactor(a); st.Pending {
		t.Fatal("a refused new-device enrolment left a pending secret")
	}
	if _, err := e.svc.BeginEnrolment(t.Context(), e.fresh(), a); err != nil {
		t.Fatalf("a session signed in just now: %v", err)
	}
}
