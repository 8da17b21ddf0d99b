package auth

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/clientarea/clientarea/internal/mail"
	"github.com/clientarea/clientarea/internal/recoverycode"
	"github.com/clientarea/clientarea/internal/totp"
)

// Enrolment is a pending authenticator-app setup: everything the
// enrolment page, the QR code and the Save key file show.
type Enrolment struct {
	Issuer      string
	AccountName string
	// Secret is Base32 without padding, as typed into an app.
	Secret string
	URI    string
	// RecoveryCodes are made with a first enrolment and become valid when
	// it is confirmed. A new device keeps the account's codes, so it has none.
	RecoveryCodes []string
	// NewDevice is true when 2FA is already on and this secret will
	// replace the active one.
	NewDevice bool
}

// BeginEnrolment starts an enrolment, or returns the one in progress: the
// secret stays the same across reloads and tabs until it is confirmed or
// cancelled, so a QR code scanned before a reload still works. Replacing
// an active authenticator (a new device) needs a sign-in within
// Policy.RecentSignIn, as GitHub's sudo mode does: whoever holds an old or
// stolen session must not be able to swap the customer's second factor.
func (s *Service) BeginEnrolment(ctx context.Context, sess Session, a Account) (Enrolment, error) {
	creds, err := s.store.Credentials(ctx, a.ID)
	if err != nil {
		return Enrolment{}, internal("begin enrolment", err)
	}
	for _, c := range creds {
		if c.Status == StatusPending {
			return s.openEnrolment(a, c, hasActive(creds))
		}
	}
	if hasActive(creds) && s.now().Sub(sess.CreatedAt) > s.policy.RecentSignIn {
		return Enrolment{}, Errorf(CodeReauthenticate,
			"sign out and sign in again to set up a new device")
	}
	pending, err := s.newPending(a, hasActive(creds))
	if err != nil {
		return Enrolment{}, err
	}
	c, err := s.store.AddPendingCredential(ctx, pending)
	if err != nil {
		return Enrolment{}, internal("begin enrolment", err)
	}
	s.metrics.Enrolment("started")
	return s.openEnrolment(a, c, hasActive(creds))
}

// PendingEnrolment returns the enrolment in progress, or a not-found error:
// after activation the secret is never shown again.
func (s *Service) PendingEnrolment(ctx context.Context, a Account) (Enrolment, error) {
	creds, err := s.store.Credentials(ctx, a.ID)
	if err != nil {
		return Enrolment{}, internal("pending enrolment", err)
	}
	for _, c := range creds {
		if c.Status == StatusPending {
			return s.openEnrolment(a, c, hasActive(creds))
		}
	}
	return Enrolment{}, Errorf(CodeNotFound, "no two-factor setup is in progress")
}

// CancelEnrolment drops the pending secret; an active one is untouched.
func (s *Service) CancelEnrolment(ctx context.Context, a Account) error {
	if err := s.store.DeletePendingCredentials(ctx, a.ID); err != nil {
		return internal("cancel enrolment", err)
	}
	return nil
}

func (s *Service) newPending(a Account, newDevice bool) (Credential, error) {
	secret, err := totp.NewSecret(s.rand)
	if err != nil {
		return Credential{}, internal("new secret", err)
	}
	sealed, err := s.keys.Seal(secret, SecretAD(a.ID))
	if err != nil {
		return Credential{}, internal("seal secret", err)
	}
	c := Credential{AccountID: a.ID, Kind: KindTOTP, Name: "Authenticator app",
		Status: StatusPending, Secret: sealed, CreatedAt: s.now()}
	if newDevice {
		return c, nil
	}
	codes, err := recoverycode.Generate(s.rand)
	if err != nil {
		return Credential{}, internal("recovery codes", err)
	}
	c.PendingCodes, err = s.keys.Seal([]byte(strings.Join(codes, "\n")), CodesAD(a.ID))
	if err != nil {
		return Credential{}, internal("seal recovery codes", err)
	}
	return c, nil
}

func (s *Service) openEnrolment(a Account, c Credential, newDevice bool) (Enrolment, error) {
	secret, err := s.keys.Open(c.Secret, SecretAD(a.ID))
	if err != nil {
		return Enrolment{}, internal("open secret", err)
	}
	codes, err := s.pendingCodes(a, c)
	if err != nil {
		return Enrolment{}, err
	}
	return Enrolment{Issuer: s.issuer, AccountName: a.Email, Secret: totp.EncodeSecret(secret),
		URI: totp.KeyURI(s.issuer, a.Email, secret), RecoveryCodes: codes,
		NewDevice: newDevice}, nil
}

func (s *Service) pendingCodes(a Account, c Credential) ([]string, error) {
	if c.PendingCodes == nil {
		return nil, nil
	}
	plain, err := s.keys.Open(c.PendingCodes, CodesAD(a.ID))
	if err != nil {
		return nil, internal("open recovery codes", err)
	}
	return strings.Split(string(plain), "\n"), nil
}

// ConfirmEnrolment turns 2FA on with a code from the pending secret. The
// code's step becomes the secret's last used step, so the code that turned
// 2FA on cannot sign in. It returns the recovery codes of a first
// enrolment. A wrong code that matches the secret at another time within
// about ten minutes reports the phone's clock offset.
func (s *Service) ConfirmEnrolment(ctx context.Context, a Account, raw string, m Meta) ([]string, error) {
	code, err := totp.NormalizeCode(raw)
	if err != nil {
		return nil, errCodeFormat
	}
	creds, err := s.store.Credentials(ctx, a.ID)
	if err != nil {
		return nil, internal("confirm enrolment", err)
	}
	var pending *Credential
	for i := range creds {
		if creds[i].Status == StatusPending {
			pending = &creds[i]
		}
	}
	if pending == nil {
		return nil, Errorf(CodeNotFound, "no two-factor setup is in progress")
	}
	newDevice := hasActive(creds)
	secret, err := s.keys.Open(pending.Secret, SecretAD(a.ID))
	if err != nil {
		return nil, internal("open secret", err)
	}
	step, ok := totp.Match(secret, code, s.now(), skew)
	if !ok {
		s.metrics.Enrolment("wrong_code")
		return nil, s.clockHint(secret, code)
	}
	codes, err := s.pendingCodes(a, *pending)
	if err != nil {
		return nil, err
	}
	if err := s.activate(ctx, a, pending.ID, step, codes); err != nil {
		return nil, err
	}
	s.metrics.Enrolment("activated")
	kind, notice := EventTwoFactorEnabled, mail.TwoFactorEnabled
	if newDevice {
		kind, notice = EventNewDevice, mail.NewDeviceConfirmed
	}
	s.record(ctx, a.ID, kind, m, "")
	s.notify(ctx, a, notice, m, mail.NoticeData{})
	return codes, nil
}

func (s *Service) activate(ctx context.Context, a Account, credID, step int64, codes []string) error {
	var stored []RecoveryCode
	if codes != nil {
		var err error
		if stored, err = s.hashCodes(codes); err != nil {
			return err
		}
	}
	err := s.store.ActivateCredential(ctx, credID, step, stored, s.now())
	if errors.Is(err, ErrConflict) {
		return Errorf(CodeConflict, "this setup was already finished or cancelled")
	}
	if err != nil {
		return internal("activate", err)
	}
	return nil
}

// hashCodes makes the stored form of a batch of recovery codes: one salt
// for the batch, one HMAC per code.
func (s *Service) hashCodes(codes []string) ([]RecoveryCode, error) {
	salt, err := recoverycode.NewSalt(s.rand)
	if err != nil {
		return nil, internal("recovery codes", err)
	}
	out := make([]RecoveryCode, len(codes))
	for i, c := range codes {
		n, err := recoverycode.Normalize(c)
		if err != nil {
			return nil, internal("recovery codes", err)
		}
		out[i] = RecoveryCode{Salt: salt, Hash: recoverycode.Hash(n, salt)}
	}
	return out, nil
}

// clockHint explains a wrong enrolment code. Only enrolment gives the hint:
// the customer has already proven the password there, while at sign-in it
// would tell a guesser how close a guess came.
func (s *Service) clockHint(secret []byte, code string) error {
	off, ok := totp.Offset(secret, code, s.now(), s.policy.ClockHintDistance)
	if !ok || off >= -skew && off <= skew {
		return errWrongCode
	}
	d := time.Duration(off) * totp.Period
	e := *errWrongCode
	e.ClockOffset = d
	e.Message = "that code belongs to another time: the phone's clock seems off by about " +
		roundMinutes(d) + "; turn on automatic date and time on the phone and try again"
	return &e
}

func roundMinutes(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	if d < time.Minute {
		return d.String()
	}
	return d.Round(time.Minute).String()
}
