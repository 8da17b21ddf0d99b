// Package auth is the domain of clientarea: accounts, their second factors,
// sessions, and every rule of signing in with a password and a TOTP code.
//
// The Service holds the rules; a Store (internal/store, on SQLite or
// PostgreSQL) holds the state. Every rule that must hold when two requests
// race, or when several instances share one database, is enforced by a
// single conditional write in the Store rather than by a read followed by a
// write in Go: replay of a TOTP step, one use of a recovery code, the
// guessing limits, and at most one pending enrolment per account.
//
// Second factors are modelled as a list of credentials per account, so that
// several authenticator apps or WebAuthn keys can be added later without a
// change of schema.
package auth
