package auth

import (
	"errors"
	"fmt"
	"time"
)

// Role is what an account may do. Support staff are admins.
type Role string

// Roles.
const (
	RoleCustomer Role = "customer"
	RoleAdmin    Role = "admin"
)

// Account is one customer or member of support staff.
type Account struct {
	ID           int64
	Email        string
	PasswordHash string
	Role         Role
	Lang         string
	CreatedAt    time.Time
}

// CredentialKind names a kind of second factor.
type CredentialKind string

// KindTOTP is an authenticator app (RFC 6238).
const KindTOTP CredentialKind = "totp"

// CredentialStatus tells whether a credential is being enrolled or in use.
type CredentialStatus string

// Credential states.
const (
	StatusPending CredentialStatus = "pending"
	StatusActive  CredentialStatus = "active"
)

// Credential is one second factor of an account.
type Credential struct {
	ID        int64
	AccountID int64
	Kind      CredentialKind
	Name      string
	Status    CredentialStatus
	// Secret is the sealed TOTP secret (internal/seal), never plain.
	Secret []byte
	// PendingCodes holds the sealed recovery codes made with a first
	// enrolment, so that the Save key file and the enable answer can show
	// them; it is cleared when the credential is activated.
	PendingCodes []byte
	// LastStep is the last TOTP step accepted for this secret; any code of
	// this step or an earlier one is a replay.
	LastStep int64
	// LastSession and LastIP tell who used LastStep, so that a replay from
	// somebody else can be told apart from a double click.
	LastSession []byte
	LastIP      string
	CreatedAt   time.Time
	ActivatedAt time.Time
}

// Stage is how far a session has signed in.
type Stage string

// Session stages.
const (
	// StagePassword is the half-signed-in state between the password and
	// the second factor. It opens nothing of the client area.
	StagePassword Stage = "password"
	StageFull     Stage = "full"
)

// Session is a server-side session. Only the hash of its id is stored.
type Session struct {
	IDHash      []byte
	AccountID   int64
	Stage       Stage
	CreatedAt   time.Time
	LastSeen    time.Time
	ExpiresAt   time.Time
	IP          string
	UserAgent   string
	ViaRecovery bool
}

// RecoveryCode is the stored form of one recovery code.
type RecoveryCode struct {
	ID   int64
	Salt []byte
	Hash []byte
	Used bool
}

// Event is one entry of an account's security log.
type Event struct {
	ID        int64
	AccountID int64
	Kind      EventKind
	At        time.Time
	IP        string
	UserAgent string
	Detail    string
}

// EventKind names a security event.
type EventKind string

// Security events.
const (
	EventSignUp              EventKind = "signup"
	EventSignIn              EventKind = "signin"
	EventPasswordFailed      EventKind = "password_failed"
	EventCodeAccepted        EventKind = "code_accepted"
	EventCodeFailed          EventKind = "code_failed"
	EventCodeReplayed        EventKind = "code_replayed"
	EventThrottled           EventKind = "throttled"
	EventTwoFactorEnabled    EventKind = "2fa_enabled"
	EventTwoFactorDisabled   EventKind = "2fa_disabled"
	EventTwoFactorReset      EventKind = "2fa_reset"
	EventNewDevice           EventKind = "new_device"
	EventRecoveryCodeUsed    EventKind = "recovery_code_used"
	EventRecoveryRegenerated EventKind = "recovery_codes_regenerated"
	EventPasswordChanged     EventKind = "password_changed"
	EventPasswordReset       EventKind = "password_reset"
	EventSupportRequested    EventKind = "support_requested"
	EventSignedOutEverywhere EventKind = "signed_out_everywhere"
)

// FactorGuard is the per-account record of second-factor guessing.
type FactorGuard struct {
	AccountID int64
	// Consecutive counts wrong codes since the last success; it sets the wait.
	Consecutive int
	// Total counts wrong codes since the last success; at the hard limit
	// TOTP sign-in is locked until a recovery code or a support reset.
	Total     int
	WaitUntil time.Time
	// Version makes every change a compare-and-swap.
	Version int64
}

// Throttle is a fixed-window counter of one key's failures and of its
// attempts still being checked.
type Throttle struct {
	Key string
	// Count is the attempts of the window that failed or are still being
	// checked; Pending is how many of them are still being checked.
	Count   int
	Pending int
	// Window numbers the windows, so that a place taken in one is given
	// back or settled in it and in no later one.
	Window      int64
	WindowStart time.Time
	WaitUntil   time.Time
	Strikes     int
	Version     int64
}

// Place is one attempt's place on a throttle: its key and the window it
// was taken in.
type Place struct {
	Key    string
	Window int64
}

// RecoveryRequest is a customer's request for support to restore access.
type RecoveryRequest struct {
	ID          int64
	AccountID   int64
	Email       string
	Status      RequestStatus
	Message     string
	IP          string
	CreatedAt   time.Time
	ConfirmedAt time.Time
	ResolvedAt  time.Time
	ResolvedBy  string
	Resolution  string
}

// RequestStatus is where a recovery request stands.
type RequestStatus string

// Recovery request states.
const (
	RequestUnconfirmed RequestStatus = "unconfirmed"
	RequestOpen        RequestStatus = "open"
	RequestResolved    RequestStatus = "resolved"
)

// Token is a one-time token sent by e-mail; only its hash is stored.
type Token struct {
	Hash      []byte
	Purpose   TokenPurpose
	AccountID int64
	Ref       int64
	ExpiresAt time.Time
}

// TokenPurpose says what a token may be used for.
type TokenPurpose string

// Token purposes.
const (
	TokenPasswordReset  TokenPurpose = "password_reset"
	TokenSupportConfirm TokenPurpose = "support_confirm"
)

// Code is a machine-readable error code, shown to API clients and mapped to
// an HTTP status in one place by the web layer.
type Code string

// Error codes.
const (
	CodeInvalidInput       Code = "invalid_input"
	CodeInvalidCodeFormat  Code = "invalid_code_format"
	CodeInvalidCredentials Code = "invalid_credentials"
	CodeInvalidCode        Code = "invalid_code"
	CodeThrottled          Code = "throttled"
	CodeLocked             Code = "totp_locked"
	CodeBusy               Code = "busy"
	CodeUnauthenticated    Code = "unauthenticated"
	CodeForbidden          Code = "forbidden"
	CodeReauthenticate     Code = "reauthentication_required"
	CodeNotFound           Code = "not_found"
	CodeConflict           Code = "conflict"
	CodeInternal           Code = "internal"
)

// Error is an error the customer may be shown. Message is safe to display;
// the wrapped cause, if any, is only logged.
type Error struct {
	Code       Code
	Message    string
	RetryAfter time.Duration
	// ClockOffset is set on a wrong enrolment code that matches the secret
	// at another time: the phone's clock is off by about this much.
	ClockOffset time.Duration
	Err         error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf makes an *Error with a code and a customer-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the Code of err: "" for nil, CodeInternal when err is
// not an *Error.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// Store errors, returned by every Store implementation.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
)
