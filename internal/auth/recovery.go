package auth

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/clientarea/clientarea/internal/mail"
	"github.com/clientarea/clientarea/internal/recoverycode"
	"github.com/clientarea/clientarea/internal/totp"
)

// checkAnyFactor accepts either a TOTP code or a recovery code: six digits
// are taken for a TOTP code, anything else for a recovery code.
func (s *Service) checkAnyFactor(ctx context.Context, a Account, code string, m Meta) error {
	if _, err := totp.NormalizeCode(code); err == nil {
		return s.checkTOTP(ctx, a, code, m)
	}
	return s.checkRecovery(ctx, a, code, m)
}

// DisableTwoFactor turns 2FA off. It asks for the password and a current
// code or a recovery code, so that a session left open on a shared
// computer is not enough.
func (s *Service) DisableTwoFactor(ctx context.Context, a Account, pw, code string, m Meta) error {
	if err := s.reauthenticate(ctx, a, pw, m); err != nil {
		return err
	}
	st, err := s.TwoFactor(ctx, a)
	if err != nil {
		return err
	}
	if !st.Enabled {
		return Errorf(CodeConflict, "two-factor authentication is not on")
	}
	if err := s.checkAnyFactor(ctx, a, code, m); err != nil {
		return err
	}
	if err := s.store.RemoveSecondFactors(ctx, a.ID, false); err != nil {
		return internal("disable two-factor", err)
	}
	s.record(ctx, a.ID, EventTwoFactorDisabled, m, "")
	s.notify(ctx, a, mail.TwoFactorDisabled, m, mail.NoticeData{})
	return nil
}

// RegenerateRecoveryCodes replaces all recovery codes after a current TOTP
// code; the old codes stop working at once.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, a Account, code string, m Meta) ([]string, error) {
	if err := s.checkTOTP(ctx, a, code, m); err != nil {
		return nil, err
	}
	codes, err := recoverycode.Generate(s.rand)
	if err != nil {
		return nil, internal("recovery codes", err)
	}
	stored, err := s.hashCodes(codes)
	if err != nil {
		return nil, err
	}
	if err := s.store.ReplaceRecoveryCodes(ctx, a.ID, stored); err != nil {
		return nil, internal("recovery codes", err)
	}
	s.record(ctx, a.ID, EventRecoveryRegenerated, m, "")
	s.notify(ctx, a, mail.RecoveryCodesRegenerated, m, mail.NoticeData{})
	return codes, nil
}

// ResetTwoFactor is support's way back in for a customer who lost every
// factor: it removes the secret and recovery codes, ends every session,
// closes open recovery requests, records who did it and why, and tells
// the customer. The reason says how the customer's identity was verified.
func (s *Service) ResetTwoFactor(ctx context.Context, email, reason, operator string, m Meta) error {
	reason, operator = strings.TrimSpace(reason), strings.TrimSpace(operator)
	if reason == "" || utf8.RuneCountInString(reason) > 1000 {
		return Errorf(CodeInvalidInput, "a reset needs a reason: how was the customer's identity verified?")
	}
	if operator == "" {
		return Errorf(CodeInvalidInput, "a reset needs the name of who does it")
	}
	norm, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	a, err := s.store.AccountByEmail(ctx, norm)
	if errors.Is(err, ErrNotFound) {
		return Errorf(CodeNotFound, "no account has this e-mail address")
	}
	if err != nil {
		return internal("reset two-factor", err)
	}
	st, err := s.TwoFactor(ctx, a)
	if err != nil {
		return err
	}
	if !st.Enabled {
		return Errorf(CodeConflict, "two-factor authentication is not on for this account: "+
			"there is nothing to reset")
	}
	if err := s.store.RemoveSecondFactors(ctx, a.ID, true); err != nil {
		return internal("reset two-factor", err)
	}
	err = s.store.ResolveRecoveryRequests(ctx, a.ID, operator, "2FA reset: "+reason, s.now())
	if err != nil {
		return internal("reset two-factor", err)
	}
	s.record(ctx, a.ID, EventTwoFactorReset, m, "by "+operator+": "+reason)
	// The notice leaves out the address: it is support's, not the
	// customer's, and would only confuse.
	s.notify(ctx, a, mail.TwoFactorReset, Meta{}, mail.NoticeData{})
	return nil
}

// supportRequestsPerHour bounds the requests, and so the e-mails, that one
// half-signed-in customer can send.
const supportRequestsPerHour = 3

// RequestSupport files a request for help from the code step of sign-in,
// by a customer who knows the password but lost the authenticator. It
// waits for confirmation through a link e-mailed to the account's address.
func (s *Service) RequestSupport(ctx context.Context, token, message string, m Meta) error {
	sess, a, err := s.halfSession(ctx, token)
	if err != nil {
		return err
	}
	message = strings.TrimSpace(message)
	if utf8.RuneCountInString(message) > 2000 {
		return Errorf(CodeInvalidInput, "the message is too long")
	}
	// Each request e-mails the customer; a few an hour are plenty.
	key := "support:" + strconv.FormatInt(a.ID, 10)
	l := limit{supportRequestsPerHour, time.Hour, time.Hour, time.Hour}
	if _, _, err := s.take(ctx, key, l, false); err != nil {
		return err
	}
	r, err := s.store.CreateRecoveryRequest(ctx, RecoveryRequest{AccountID: a.ID,
		Status: RequestUnconfirmed, Message: message, IP: m.IP, CreatedAt: s.now()})
	if err != nil {
		return internal("request support", err)
	}
	link, err := s.mailToken(ctx, a, TokenSupportConfirm, r.ID, "/support/confirm")
	if err != nil {
		return err
	}
	m.Session = sess.IDHash
	s.record(ctx, a.ID, EventSupportRequested, m, "")
	s.notify(ctx, a, mail.RecoveryRequestConfirm, m,
		mail.NoticeData{Link: link, ValidFor: s.policy.TokenLifetime})
	return nil
}

// ConfirmSupport puts a confirmed request in the support queue.
func (s *Service) ConfirmSupport(ctx context.Context, token string) error {
	t, err := s.useToken(ctx, token, TokenSupportConfirm)
	if err != nil {
		return err
	}
	if err := s.store.ConfirmRecoveryRequest(ctx, t.Ref, s.now()); err != nil {
		return internal("confirm support request", err)
	}
	return nil
}

// SupportQueue lists confirmed requests waiting for support.
func (s *Service) SupportQueue(ctx context.Context) ([]RecoveryRequest, error) {
	rs, err := s.store.RecoveryRequests(ctx, RequestOpen, 200)
	if err != nil {
		return nil, internal("support queue", err)
	}
	return rs, nil
}

// FindAccounts searches accounts by e-mail, for support.
func (s *Service) FindAccounts(ctx context.Context, query string) ([]Account, error) {
	query = strings.TrimSpace(query)
	if query == "" || len(query) > maxEmailLen {
		return nil, nil
	}
	as, err := s.store.SearchAccounts(ctx, query, 50)
	if err != nil {
		return nil, internal("find accounts", err)
	}
	return as, nil
}

// AccountByEmail finds one account, for support and operators.
func (s *Service) AccountByEmail(ctx context.Context, email string) (Account, error) {
	norm, err := NormalizeEmail(email)
	if err != nil {
		return Account{}, err
	}
	a, err := s.store.AccountByEmail(ctx, norm)
	if errors.Is(err, ErrNotFound) {
		return Account{}, Errorf(CodeNotFound, "no account has this e-mail address")
	}
	if err != nil {
		return Account{}, internal("find account", err)
	}
	return a, nil
}

// RequestPasswordReset e-mails a reset link when the address has an
// account, and answers the same either way.
func (s *Service) RequestPasswordReset(ctx context.Context, email string, m Meta) error {
	norm, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	key := "reset-ip:" + addressKey(m.IP)
	if _, _, err := s.take(ctx, key, s.policy.perIPHourly(), false); err != nil {
		return err
	}
	a, err := s.store.AccountByEmail(ctx, norm)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return internal("password reset", err)
	}
	link, err := s.mailToken(ctx, a, TokenPasswordReset, 0, "/password/reset")
	if err != nil {
		return err
	}
	s.notify(ctx, a, mail.PasswordResetLink, m,
		mail.NoticeData{Link: link, ValidFor: s.policy.TokenLifetime})
	return nil
}

// ResetPassword sets a new password from an e-mailed link and ends every
// session. It signs nobody in: the customer then signs in as usual, and
// the second factor is asked for as always.
func (s *Service) ResetPassword(ctx context.Context, token, pw string, m Meta) error {
	if err := CheckPassword(pw); err != nil {
		return err
	}
	// Hash before the link is spent: a busy server (503) must leave the
	// customer a link that still works.
	hash, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return hashError(err)
	}
	t, err := s.useToken(ctx, token, TokenPasswordReset)
	if err != nil {
		return err
	}
	a, err := s.store.AccountByID(ctx, t.AccountID)
	if err != nil {
		return internal("password reset", err)
	}
	if err := s.setPassword(ctx, a.ID, hash, nil); err != nil {
		return err
	}
	s.record(ctx, a.ID, EventPasswordReset, m, "")
	s.notify(ctx, a, mail.PasswordReset, m, mail.NoticeData{})
	return nil
}

func (s *Service) mailToken(ctx context.Context, a Account, p TokenPurpose, ref int64,
	path string) (string, error) {
	token, hash, err := s.newToken()
	if err != nil {
		return "", internal("token", err)
	}
	err = s.store.CreateToken(ctx, Token{Hash: hash, Purpose: p, AccountID: a.ID, Ref: ref,
		ExpiresAt: s.now().Add(s.policy.TokenLifetime)})
	if err != nil {
		return "", internal("token", err)
	}
	return s.baseURL + path + "?token=" + url.QueryEscape(token), nil
}

func (s *Service) useToken(ctx context.Context, token string, p TokenPurpose) (Token, error) {
	if token == "" || len(token) > 128 {
		return Token{}, Errorf(CodeNotFound, "this link is not valid; it may have expired or been used")
	}
	t, err := s.store.UseToken(ctx, HashToken(token), p, s.now())
	if errors.Is(err, ErrNotFound) {
		return Token{}, Errorf(CodeNotFound, "this link is not valid; it may have expired or been used")
	}
	if err != nil {
		return Token{}, internal("token", err)
	}
	return t, nil
}

// Events pages through an account's security log, newest first.
func (s *Service) Events(ctx context.Context, accountID, before int64, limit int) ([]Event, error) {
	es, err := s.store.Events(ctx, accountID, before, limit)
	if err != nil {
		return nil, internal("events", err)
	}
	return es, nil
}
