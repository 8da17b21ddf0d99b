-- Times are Unix seconds (UTC). Secrets are AES-GCM blobs from internal/seal;
-- codes and session ids are stored only as hashes.
--
-- Ids are AUTOINCREMENT so that SQLite never reuses the id of a deleted row:
-- conditional updates by id (a recovery code spent, a TOTP step recorded)
-- must never land on a newer row that took an old row's id.

CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL DEFAULT 'customer' CHECK (role IN ('customer', 'admin')),
    lang          TEXT    NOT NULL DEFAULT 'en',
    created_at    INTEGER NOT NULL
);

-- Second factors are a list per account. Today only TOTP exists, and at most
-- one of them is pending (being enrolled) at a time.
CREATE TABLE credentials (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id      INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind            TEXT    NOT NULL CHECK (kind IN ('totp')),
    name            TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'active')),
    secret          BLOB    NOT NULL,
    pending_codes   BLOB,
    last_step       INTEGER NOT NULL DEFAULT -1,
    last_session    BLOB,
    last_ip         TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    activated_at    INTEGER
);
CREATE INDEX credentials_account ON credentials (account_id);
CREATE UNIQUE INDEX credentials_one_pending ON credentials (account_id) WHERE status = 'pending';

CREATE TABLE recovery_codes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    salt       BLOB    NOT NULL,
    hash       BLOB    NOT NULL,
    used_at    INTEGER
);
CREATE INDEX recovery_codes_account ON recovery_codes (account_id);

-- Second-factor guessing limits, per account, shared by every session and instance.
CREATE TABLE factor_guards (
    account_id   INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    consecutive  INTEGER NOT NULL DEFAULT 0,
    total        INTEGER NOT NULL DEFAULT 0,
    wait_until   INTEGER NOT NULL DEFAULT 0,
    version      INTEGER NOT NULL DEFAULT 0
);

-- Password and sign-up throttles, keyed by "ip:..." or "account:...".
CREATE TABLE throttles (
    key          TEXT    PRIMARY KEY,
    count        INTEGER NOT NULL,
    window_start INTEGER NOT NULL,
    wait_until   INTEGER NOT NULL DEFAULT 0,
    strikes      INTEGER NOT NULL DEFAULT 0,
    version      INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE sessions (
    id_hash     BLOB    PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    stage       TEXT    NOT NULL CHECK (stage IN ('password', 'full')),
    created_at  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    ip          TEXT    NOT NULL DEFAULT '',
    user_agent  TEXT    NOT NULL DEFAULT '',
    via_recovery INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sessions_account ON sessions (account_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    ip         TEXT    NOT NULL DEFAULT '',
    user_agent TEXT    NOT NULL DEFAULT '',
    detail     TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX events_account ON events (account_id, id);

-- One-time tokens sent by e-mail (password reset, support request confirmation).
CREATE TABLE tokens (
    hash       BLOB    PRIMARY KEY,
    purpose    TEXT    NOT NULL,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    ref        INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);

CREATE TABLE recovery_requests (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status       TEXT    NOT NULL CHECK (status IN ('unconfirmed', 'open', 'resolved')),
    message      TEXT    NOT NULL DEFAULT '',
    ip           TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    confirmed_at INTEGER,
    resolved_at  INTEGER,
    resolved_by  TEXT    NOT NULL DEFAULT '',
    resolution   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX recovery_requests_status ON recovery_requests (status, id);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
