package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/clientarea/clientarea/internal/mail"
	"github.com/clientarea/clientarea/internal/password"
)

// Policy holds the limits of sign-in. DefaultPolicy gives the values
// docs/security.md argues for; tests may shorten them.
type Policy struct {
	IdleTimeout      time.Duration // a session unused this long ends
	SessionLifetime  time.Duration // a session ends this long after sign-in, used or not
	HalfSignInWindow time.Duration // time allowed between password and code

	// Second factor: FreeFailures wrong codes in a row are free, then each
	// attempt waits FactorWait, doubling up to FactorMaxWait. After
	// FactorHardLimit wrong codes since the last success only a recovery
	// code or a support reset opens TOTP sign-in again.
	FreeFailures    int
	FactorWait      time.Duration
	FactorMaxWait   time.Duration
	FactorHardLimit int

	// Passwords: failures per IP address in a window, then a wait; failures
	// per account in a window, then a growing wait capped short so that a
	// guesser cannot lock a customer out for long.
	IPFailures      int
	IPWindow        time.Duration
	IPWait          time.Duration
	AccountFailures int
	AccountWindow   time.Duration
	AccountWait     time.Duration
	AccountMaxWait  time.Duration
	SignupsPerIP    int
	SignupWindow    time.Duration
	TokenLifetime   time.Duration // password-reset and confirmation links
	// RecentSignIn is how fresh a sign-in must be to replace the
	// authenticator app: a session left open, or stolen, is not enough.
	RecentSignIn      time.Duration
	ClockHintDistance int // steps searched for a clock-skew hint at enrolment
}

// DefaultPolicy returns the production limits.
func DefaultPolicy() Policy {
	return Policy{
		IdleTimeout:       30 * time.Minute,
		SessionLifetime:   12 * time.Hour,
		HalfSignInWindow:  5 * time.Minute,
		FreeFailures:      5,
		FactorWait:        30 * time.Second,
		FactorMaxWait:     15 * time.Minute,
		FactorHardLimit:   100,
		IPFailures:        20,
		IPWindow:          time.Minute,
		IPWait:            time.Minute,
		AccountFailures:   10,
		AccountWindow:     15 * time.Minute,
		AccountWait:       30 * time.Second,
		AccountMaxWait:    5 * time.Minute,
		SignupsPerIP:      10,
		SignupWindow:      time.Hour,
		TokenLifetime:     30 * time.Minute,
		RecentSignIn:      15 * time.Minute,
		ClockHintDistance: 20,
	}
}

// Metrics receives counts of outcomes; the web layer exports them.
type Metrics interface {
	SignIn(outcome string)
	SecondFactor(outcome string)
	Throttled(what string)
	Enrolment(outcome string)
}

type noMetrics struct{}

func (noMetrics) SignIn(string)       {}
func (noMetrics) SecondFactor(string) {}
func (noMetrics) Throttled(string)    {}
func (noMetrics) Enrolment(string)    {}

// Sealer encrypts secrets at rest; *seal.Keyring is one.
type Sealer interface {
	Seal(plaintext, associatedData []byte) ([]byte, error)
	Open(blob, associatedData []byte) ([]byte, error)
}

// Config is everything a Service needs. Store, Hasher, Keyring and Mailer
// are required; the rest have defaults.
type Config struct {
	Store   Store
	Hasher  *password.Hasher
	Keyring Sealer
	Mailer  mail.Sender
	Issuer  string
	// BaseURL is the public address of the client area, for e-mailed links.
	BaseURL string
	Policy  Policy
	Logger  *slog.Logger
	Metrics Metrics
	Now     func() time.Time
	Rand    io.Reader
	// DeviceKey signs device tokens (see LoginResult.Device). Without it
	// no device is recognised and every sign-in shares the account's limit.
	DeviceKey []byte
}

// Service carries out every rule of accounts, sign-in and second factors.
// It is safe for concurrent use, also by several processes on one database.
type Service struct {
	store   Store
	hasher  *password.Hasher
	keys    Sealer
	mailer  mail.Sender
	issuer  string
	baseURL string
	policy  Policy
	log     *slog.Logger
	metrics Metrics
	now     func() time.Time
	rand    io.Reader
	device  []byte
}

// NewService checks cfg and fills in its defaults.
func NewService(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Hasher == nil || cfg.Keyring == nil || cfg.Mailer == nil {
		return nil, errors.New("auth: new service: store, hasher, keyring and mailer are required")
	}
	s := &Service{
		store: cfg.Store, hasher: cfg.Hasher, keys: cfg.Keyring, mailer: cfg.Mailer,
		issuer: cfg.Issuer, baseURL: cfg.BaseURL, policy: cfg.Policy, log: cfg.Logger,
		metrics: cfg.Metrics, now: cfg.Now, rand: cfg.Rand, device: cfg.DeviceKey,
	}
	if s.issuer == "" {
		s.issuer = "Client Area"
	}
	if s.policy == (Policy{}) {
		s.policy = DefaultPolicy()
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.metrics == nil {
		s.metrics = noMetrics{}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	return s, nil
}

// Issuer is the name authenticator apps show for this client area.
func (s *Service) Issuer() string { return s.issuer }

// Policy returns the limits in force.
func (s *Service) Policy() Policy { return s.policy }

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }

// Meta describes the request behind an operation, for the security log.
type Meta struct {
	IP        string
	UserAgent string
	// Session is the hash of the caller's session id, when there is one.
	Session []byte
	// Device is the device token the browser or client kept from an
	// earlier correct password (LoginResult.Device), if any.
	Device string
}

// newToken returns a random 256-bit token and the hash under which it is
// stored. Only the hash reaches the database, so a copy of it opens no
// session and follows no link.
func (s *Service) newToken() (token string, hash []byte, err error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return "", nil, fmt.Errorf("auth: new token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashToken(token), nil
}

// HashToken is the stored form of a session id or e-mailed token.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// record stores a security event and logs it. A failure to store is
// logged, not returned: the customer's operation has already happened.
func (s *Service) record(ctx context.Context, accountID int64, kind EventKind, m Meta, detail string) {
	e := s.event(accountID, kind, m, detail)
	s.logEvent(ctx, e)
	if err := s.store.AddEvent(ctx, e); err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "store security event", slog.Any("err", err))
	}
}

func (s *Service) event(accountID int64, kind EventKind, m Meta, detail string) Event {
	return Event{AccountID: accountID, Kind: kind, At: s.now(), IP: m.IP,
		UserAgent: truncate(m.UserAgent, 256), Detail: detail}
}

func (s *Service) logEvent(ctx context.Context, e Event) {
	s.log.LogAttrs(ctx, slog.LevelInfo, "security event", slog.String("event", string(e.Kind)),
		slog.Int64("account_id", e.AccountID), slog.String("ip", e.IP))
}

// notify e-mails the account holder. Like record, it never fails the
// operation that caused it.
func (s *Service) notify(ctx context.Context, a Account, n mail.Notice, m Meta, d mail.NoticeData) {
	d.Lang, d.Issuer, d.Email, d.Time, d.IP = a.Lang, s.issuer, a.Email, s.now(), m.IP
	msg := mail.Compose(n, d)
	msg.To = a.Email
	if err := s.mailer.Send(ctx, msg); err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "send notice", slog.Int64("account_id", a.ID),
			slog.Any("err", err))
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// SecretAD is the associated data that binds a sealed TOTP secret to its
// account: a blob copied to another account's row does not open.
func SecretAD(accountID int64) []byte {
	return []byte("totp:" + strconv.FormatInt(accountID, 10))
}

// CodesAD binds sealed pending recovery codes to their account.
func CodesAD(accountID int64) []byte {
	return []byte("recovery:" + strconv.FormatInt(accountID, 10))
}

// internal wraps an unexpected failure; the web layer logs the cause and
// shows a generic message.
func internal(op string, err error) error {
	return &Error{Code: CodeInternal, Message: "something went wrong", Err: fmt.Errorf("%s: %w", op, err)}
}
