package auth

import (
	"context"
	"time"
)

// Store keeps clientarea's state. Each method is one transaction, unless
// it is called on the Store that Atomic hands over. Methods documented as
// conditional change nothing and report false (or ErrConflict) when their
// condition no longer holds, which is how races between requests and
// instances are decided.
type Store interface {
	// Atomic calls fn with a Store on which every call belongs to one
	// transaction: committed if fn returns nil, rolled back if it returns
	// an error. fn may be called more than once (a deadlock is retried),
	// so it must not act outside the store: no e-mail, no metrics. Called
	// on a Store that Atomic handed over, it runs fn in a savepoint: an
	// error rolls back fn's writes and leaves the rest of the transaction.
	Atomic(ctx context.Context, fn func(Store) error) error
	// LockAccount, on a Store from Atomic, waits until no other transaction
	// holds the account and holds it until this one ends. Transactions
	// that lock an account are thereby decided one after another, on one
	// instance or many.
	LockAccount(ctx context.Context, accountID int64) error

	CreateAccount(ctx context.Context, a Account) (Account, error) // ErrConflict: e-mail taken
	AccountByEmail(ctx context.Context, email string) (Account, error)
	AccountByID(ctx context.Context, id int64) (Account, error)
	SetPasswordHash(ctx context.Context, accountID int64, hash string) error
	SetLang(ctx context.Context, accountID int64, lang string) error
	SearchAccounts(ctx context.Context, query string, limit int) ([]Account, error)

	Credentials(ctx context.Context, accountID int64) ([]Credential, error)
	// AddPendingCredential stores c unless the account already has a pending
	// credential, and returns whichever is pending afterwards: two tabs that
	// start an enrolment at once get the same secret.
	AddPendingCredential(ctx context.Context, c Credential) (Credential, error)
	DeletePendingCredentials(ctx context.Context, accountID int64) error
	// ActivateCredential makes the pending credential active with lastStep
	// as its last used step, removes every other active credential of its
	// kind (the new device replaces the old), clears the guessing counters,
	// and, when codes is not nil, replaces the recovery codes. ErrConflict
	// when the credential is no longer pending.
	ActivateCredential(ctx context.Context, credID, lastStep int64, codes []RecoveryCode, now time.Time) error
	// AdvanceStep records step as used if, and only if, it is later than
	// the credential's last step. It reports whether this call won.
	AdvanceStep(ctx context.Context, credID, step int64, session []byte, ip string) (bool, error)
	// RemoveSecondFactors deletes every credential and recovery code of the
	// account; with endSessions it also ends every session.
	RemoveSecondFactors(ctx context.Context, accountID int64, endSessions bool) error

	RecoveryCodes(ctx context.Context, accountID int64) ([]RecoveryCode, error)
	ReplaceRecoveryCodes(ctx context.Context, accountID int64, codes []RecoveryCode) error
	// UseRecoveryCode marks the code used if it was unused; it reports
	// whether this call won.
	UseRecoveryCode(ctx context.Context, codeID int64, now time.Time) (bool, error)

	FactorGuard(ctx context.Context, accountID int64) (FactorGuard, error)
	// SwapFactorGuard writes g if the stored version is still g.Version-1
	// (or no row exists and g.Version is 1); it reports whether it did.
	SwapFactorGuard(ctx context.Context, g FactorGuard) (bool, error)
	Throttle(ctx context.Context, key string) (Throttle, error)
	SwapThrottle(ctx context.Context, t Throttle) (bool, error)
	// TakeThrottle counts one attempt against key if that needs no
	// decision: the key is not waiting and has fewer than n attempts in a
	// window that began less than window before now (or the window has
	// passed, and the next one starts at now). With pending the attempt
	// also counts as pending until it is settled or refunded. It returns
	// the window the place was taken in, or reports false, changing
	// nothing, in every other case. n is at least 1.
	TakeThrottle(ctx context.Context, key string, n int, window time.Duration, now time.Time,
		pending bool) (gen int64, ok bool, err error)
	// RefundThrottles takes each pending place off its key, if the key is
	// still in the place's window: it no longer counts. SettleThrottles
	// makes each pending place a failure, again only in its window: it
	// still counts, and is no longer pending. Each place is decided on its
	// own, not all together.
	RefundThrottles(ctx context.Context, places ...Place) error
	SettleThrottles(ctx context.Context, places ...Place) error

	CreateSession(ctx context.Context, s Session) error
	// Session returns the session and its account.
	Session(ctx context.Context, idHash []byte) (Session, Account, error)
	// ReplaceSession deletes the session old and creates s in one step;
	// ErrNotFound when old is already gone (another request used it).
	ReplaceSession(ctx context.Context, old []byte, s Session) error
	TouchSession(ctx context.Context, idHash []byte, lastSeen time.Time) error
	DeleteSession(ctx context.Context, idHash []byte) error
	// DeleteSessions ends every session of the account except keep.
	DeleteSessions(ctx context.Context, accountID int64, keep []byte) error
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)
	CountSessions(ctx context.Context, now time.Time) (int64, error)

	AddEvent(ctx context.Context, e Event) error
	// Events lists an account's events newest first, with ids below
	// before (0: from the newest).
	Events(ctx context.Context, accountID int64, before int64, limit int) ([]Event, error)

	CreateToken(ctx context.Context, t Token) error
	// DeleteTokens withdraws an account's tokens of one purpose.
	DeleteTokens(ctx context.Context, accountID int64, purpose TokenPurpose) error
	// UseToken marks an unexpired, unused token used and returns it.
	UseToken(ctx context.Context, hash []byte, purpose TokenPurpose, now time.Time) (Token, error)

	CreateRecoveryRequest(ctx context.Context, r RecoveryRequest) (RecoveryRequest, error)
	ConfirmRecoveryRequest(ctx context.Context, id int64, now time.Time) error
	RecoveryRequests(ctx context.Context, status RequestStatus, limit int) ([]RecoveryRequest, error)
	ResolveRecoveryRequests(ctx context.Context, accountID int64, by, resolution string, now time.Time) error

	Setting(ctx context.Context, key string) (string, error)
	// PutSetting stores value under key if the key is absent or holds old.
	PutSetting(ctx context.Context, key, old, value string) (bool, error)

	// SealedSecrets and ResealSecret serve key rotation.
	SealedSecrets(ctx context.Context, afterID int64, limit int) ([]Credential, error)
	ResealSecret(ctx context.Context, credID int64, old, secret, oldCodes, codes []byte) (bool, error)

	Ping(ctx context.Context) error
	Close() error
}
