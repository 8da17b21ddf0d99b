package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/mail"
	"strings"
	"unicode/utf8"

	notices "github.com/clientarea/clientarea/internal/mail"
	"github.com/clientarea/clientarea/internal/password"
)

// Password length limits. NIST SP 800-63B asks for at least 8 characters
// when a second factor is offered and at least 64 allowed; the upper bound
// only keeps a request from feeding megabytes to argon2.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 256
	maxEmailLen    = 254
)

// NormalizeEmail checks an address and returns its canonical form: a bare
// address, lower-cased, so that one mailbox is one account.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxEmailLen {
		return "", Errorf(CodeInvalidInput, "enter a valid e-mail address")
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" || !printableASCII(s) {
		return "", Errorf(CodeInvalidInput, "enter a valid e-mail address")
	}
	return strings.ToLower(s), nil
}

// printableASCII reports whether s is visible ASCII only. Addresses are
// kept to it: Unicode lower-casing folds look-alikes together (the Kelvin
// sign becomes k), invisible characters make look-alike accounts, and
// non-ASCII addresses need SMTPUTF8 from every mail server on the way.
// TODO: internationalised addresses (.рф domains in punycode are already
// fine) need a normalisation policy before they can be allowed.
func printableASCII(s string) bool {
	for i := range len(s) {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// CheckPassword applies the length rules to a new password.
func CheckPassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	if !utf8.ValidString(pw) || n < MinPasswordLen || n > MaxPasswordLen {
		return Errorf(CodeInvalidInput, "a password needs %d to %d characters",
			MinPasswordLen, MaxPasswordLen)
	}
	return nil
}

// SignUp creates an account. To keep registered addresses secret, signing
// up with one answers exactly like a new sign-up (after the same password
// hashing) and e-mails the owner instead of touching the account.
func (s *Service) SignUp(ctx context.Context, email, pw string, m Meta) error {
	email, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	if err := CheckPassword(pw); err != nil {
		return err
	}
	key := "signup-ip:" + addressKey(m.IP)
	if _, _, err := s.take(ctx, key, s.policy.perIPHourly(), false); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return hashError(err)
	}
	a, err := s.store.CreateAccount(ctx, Account{Email: email, PasswordHash: hash,
		Role: RoleCustomer, Lang: "en", CreatedAt: s.now()})
	if errors.Is(err, ErrConflict) {
		existing, err := s.store.AccountByEmail(ctx, email)
		if err != nil {
			return internal("sign up", err)
		}
		s.notify(ctx, existing, notices.SignupExisting, m,
			notices.NoticeData{SignInURL: s.baseURL + "/login"})
		return nil
	}
	if err != nil {
		return internal("sign up", err)
	}
	s.record(ctx, a.ID, EventSignUp, m, "")
	return nil
}

// CreateAccount makes an account directly, for operators (no throttles,
// no enumeration cover: the operator already knows).
func (s *Service) CreateAccount(ctx context.Context, email, pw string, role Role) (Account, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return Account{}, err
	}
	if err := CheckPassword(pw); err != nil {
		return Account{}, err
	}
	hash, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return Account{}, hashError(err)
	}
	a, err := s.store.CreateAccount(ctx, Account{Email: email, PasswordHash: hash, Role: role,
		Lang: "en", CreatedAt: s.now()})
	if errors.Is(err, ErrConflict) {
		return Account{}, Errorf(CodeConflict, "an account with this e-mail exists")
	}
	if err != nil {
		return Account{}, internal("create account", err)
	}
	return a, nil
}

// LoginResult is the outcome of a correct password.
type LoginResult struct {
	// Token is the new session id for the cookie.
	Token   string
	Account Account
	// SecondFactor is true when the session is only half signed in and
	// must be completed with a code or a recovery code.
	SecondFactor bool
	// Device is a token for the client to keep (a long-lived cookie) and
	// send back as Meta.Device: it proves the client once knew the
	// password, and puts it on a password budget apart from the account's,
	// so that a guesser elsewhere cannot lock the customer out of a known
	// browser. It is an HMAC of the address, not a stored record: every
	// browser that holds it shares that one budget, and a password change
	// does not revoke it (revoking would need tokens stored per browser).
	Device string
}

var errBadCredentials = Errorf(CodeInvalidCredentials, "wrong e-mail or password")

// Login checks an e-mail and password. A wrong password and an unknown
// e-mail give the same error after the same work.
func (s *Service) Login(ctx context.Context, email, pw string, m Meta) (LoginResult, error) {
	email, err := NormalizeEmail(email)
	if err != nil || len(pw) > 4*MaxPasswordLen {
		return LoginResult{}, errBadCredentials
	}
	a, err := s.attemptPassword(ctx, email, pw, m)
	if err != nil {
		if ErrorCode(err) == CodeInvalidCredentials {
			s.metrics.SignIn("wrong_password")
			if a.ID != 0 {
				s.record(ctx, a.ID, EventPasswordFailed, m, "")
			}
		}
		return LoginResult{}, err
	}
	res, err := s.startSession(ctx, a, m)
	if err != nil {
		return LoginResult{}, err
	}
	res.Device = s.deviceToken(email)
	return res, nil
}

// accountKey names the password budget an attempt counts against: the
// account's, shared by everyone who tries it, or, for a client that shows
// a device token of this address, that client's own (OWASP's device
// cookies). Only someone who once had the right password holds one.
func (s *Service) accountKey(email, device string) string {
	if t := s.deviceToken(email); t != "" && hmac.Equal([]byte(device), []byte(t)) {
		return "login-device:" + email
	}
	return "login-account:" + email
}

// deviceToken is the device token of an address: an HMAC under the
// service's device key, so it needs no storage and cannot be forged.
func (s *Service) deviceToken(email string) string {
	if len(s.device) == 0 {
		return ""
	}
	mac := hmac.New(sha256.New, s.device)
	mac.Write([]byte("device\x00" + email))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// checkPassword returns the account when pw is its password; with a wrong
// password it returns the account too, so that the failure can be logged.
func (s *Service) checkPassword(ctx context.Context, email, pw string) (Account, error) {
	a, err := s.store.AccountByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		// Hash anyway: answering an unknown address faster than a wrong
		// password would tell which addresses have accounts.
		if err := s.hasher.Dummy(ctx, pw); err != nil {
			return Account{}, hashError(err)
		}
		return Account{}, errBadCredentials
	}
	if err != nil {
		return Account{}, internal("login", err)
	}
	rehash, err := s.hasher.Verify(ctx, a.PasswordHash, pw)
	if errors.Is(err, password.ErrMismatch) {
		return a, errBadCredentials
	}
	if err != nil {
		return Account{}, hashError(err)
	}
	if rehash {
		s.rehash(ctx, a, pw)
	}
	return a, nil
}

// attemptPassword checks a password under the limits of the address and
// the account. A place on each is taken before the password is checked, so
// that guesses sent at once cannot all pass, and only a wrong password
// keeps them: a right one gives them back, and so does one that was never
// judged, refused by the account's limit after the address's place was
// taken, answered busy, or left by its sender while it waited. The places
// are taken and given back whether or not the sender is still there, so
// that leaving midway neither loses a place nor frees one. A wait that
// starts on the account goes into its security log, once per wait rather
// than once per refused request, so that refusals cannot flood the log.
func (s *Service) attemptPassword(ctx context.Context, email, pw string, m Meta) (Account, error) {
	held := context.WithoutCancel(ctx)
	ipKey, accountKey := "login-ip:"+addressKey(m.IP), s.accountKey(email, m.Device)
	ip, _, err := s.take(held, ipKey, s.policy.ipLimit(), true)
	if err != nil {
		return Account{}, err
	}
	account, started, err := s.take(held, accountKey, s.policy.accountLimit(), true)
	if started {
		if a, err := s.store.AccountByEmail(held, email); err == nil {
			s.record(held, a.ID, EventThrottled, m, "password")
		}
	}
	if err != nil {
		s.refund(held, ip)
		return Account{}, err
	}
	wrong := false
	defer func() {
		// Deferred, so that a check that panics gives its places back too
		// instead of leaving them pending for the rest of their window.
		if wrong {
			s.countFailure(held, ip, account)
		} else {
			s.refund(held, ip, account)
		}
	}()
	a, err := s.checkPassword(ctx, email, pw)
	wrong = ErrorCode(err) == CodeInvalidCredentials
	return a, err
}

// reauthenticate checks the password of a signed-in customer before a
// sensitive change. Attempts count against the same limits as at sign-in:
// a stolen session must not become an unthrottled password oracle.
func (s *Service) reauthenticate(ctx context.Context, a Account, pw string, m Meta) error {
	_, err := s.attemptPassword(ctx, a.Email, pw, m)
	switch ErrorCode(err) {
	case "":
		return nil
	case CodeInvalidCredentials:
		s.record(ctx, a.ID, EventPasswordFailed, m, "")
		return Errorf(CodeInvalidCredentials, "the password is wrong")
	}
	return err
}

// rehash upgrades a stored hash made with older, weaker parameters.
func (s *Service) rehash(ctx context.Context, a Account, pw string) {
	hash, err := s.hasher.Hash(ctx, pw)
	if err == nil {
		err = s.store.SetPasswordHash(ctx, a.ID, hash)
	}
	if err != nil {
		s.log.WarnContext(ctx, "rehash password", "account_id", a.ID, "err", err)
	}
}

func hashError(err error) error {
	if errors.Is(err, password.ErrBusy) || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Code: CodeBusy, Message: "the server is busy, try again in a moment", Err: err}
	}
	return internal("password hash", err)
}

// ChangePassword sets a new password after checking the current one, and
// ends every other session of the account.
func (s *Service) ChangePassword(ctx context.Context, a Account, current, next string, m Meta) error {
	if err := CheckPassword(next); err != nil {
		return err
	}
	if err := s.reauthenticate(ctx, a, current, m); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return hashError(err)
	}
	if err := s.setPassword(ctx, a.ID, hash, m.Session); err != nil {
		return err
	}
	s.record(ctx, a.ID, EventPasswordChanged, m, "")
	s.notify(ctx, a, notices.PasswordChanged, m, notices.NoticeData{})
	return nil
}

// setPassword stores a new password hash and ends what the old password
// opened: every session but keep, and every password-reset link not yet
// used.
func (s *Service) setPassword(ctx context.Context, accountID int64, hash string, keep []byte) error {
	if err := s.store.SetPasswordHash(ctx, accountID, hash); err != nil {
		return internal("set password", err)
	}
	if err := s.store.DeleteSessions(ctx, accountID, keep); err != nil {
		return internal("end sessions", err)
	}
	if err := s.store.DeleteTokens(ctx, accountID, TokenPasswordReset); err != nil {
		return internal("end reset links", err)
	}
	return nil
}

// SetLang remembers the customer's language for pages and e-mails.
func (s *Service) SetLang(ctx context.Context, a Account, lang string) error {
	if err := s.store.SetLang(ctx, a.ID, lang); err != nil {
		return internal("set language", err)
	}
	return nil
}
