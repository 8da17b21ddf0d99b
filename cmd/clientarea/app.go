package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/clientarea/clientarea/internal/auth"
	"github.com/clientarea/clientarea/internal/config"
	"github.com/clientarea/clientarea/internal/mail"
	"github.com/clientarea/clientarea/internal/metrics"
	"github.com/clientarea/clientarea/internal/password"
	"github.com/clientarea/clientarea/internal/seal"
	"github.com/clientarea/clientarea/internal/store"
	"github.com/clientarea/clientarea/internal/web"
)

// keyCheckSetting holds the id of the key that sealed the database's
// secrets, so that an instance started with another key refuses to run
// instead of failing every sign-in.
const keyCheckSetting = "seal_key_id"

// app is the parts every command shares, wired from one Config.
type app struct {
	cfg     config.Config
	log     *slog.Logger
	store   *store.Store
	keys    keySource
	metrics *metrics.Metrics
	hasher  *password.Hasher
	svc     *auth.Service
}

// keySource is a keyring that may change while the program runs.
type keySource interface {
	auth.Sealer
	Keyring() *seal.Keyring
}

// fixedKeys is the keyring from CLIENTAREA_SECRET_KEY.
type fixedKeys struct{ ring *seal.Keyring }

func (k fixedKeys) Keyring() *seal.Keyring { return k.ring }

func (k fixedKeys) Seal(plaintext, ad []byte) ([]byte, error) { return k.ring.Seal(plaintext, ad) }

func (k fixedKeys) Open(blob, ad []byte) ([]byte, error) { return k.ring.Open(blob, ad) }

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel)) // checked by config.Validate
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(web.LogHandler(h))
}

// openApp opens the database, migrates it, loads and checks the sealing
// key, and builds the service.
func openApp(ctx context.Context, cfg config.Config, s sys) (*app, error) {
	a := &app{cfg: cfg, log: newLogger(cfg, s.stderr)}
	st, err := store.Open(ctx, cfg.DatabaseDSN(), store.Options{MaxConns: cfg.DBMaxConns})
	if err != nil {
		return nil, err
	}
	a.store = st
	if err := a.init(ctx, s); err != nil {
		st.Close()
		return nil, err
	}
	return a, nil
}

func (a *app) init(ctx context.Context, s sys) error {
	if err := a.store.Migrate(ctx); err != nil {
		return err
	}
	keys, err := loadKeys(a.cfg)
	if err != nil {
		return err
	}
	a.keys = keys
	if err := checkKey(ctx, a.store, keys.Keyring()); err != nil {
		return err
	}
	mailer, err := mail.Open(a.cfg.SMTPURL, filepath.Join(a.cfg.Data, "outbox"), a.cfg.From())
	if err != nil {
		return err
	}
	a.metrics = metrics.New(buildInfo(), func(ctx context.Context) (int64, error) {
		return a.store.CountSessions(ctx, s.now())
	}, a.store.Pool())
	params := password.Params{Memory: uint32(a.cfg.HashMemoryKiB),
		Iterations: uint32(a.cfg.HashIterations), Parallelism: uint8(a.cfg.HashLanes),
		SaltLen: 16, KeyLen: 32}
	if err := params.Validate(); err != nil {
		return fmt.Errorf("password hashing: %w", err)
	}
	a.hasher = password.NewHasher(params, a.cfg.HashConcurrent, a.cfg.HashWait,
		a.hashOptions()...)
	a.svc, err = auth.NewService(auth.Config{Store: a.store, Hasher: a.hasher, Keyring: keys,
		Mailer: mailer, Issuer: a.cfg.Issuer, BaseURL: a.cfg.PublicURL(), Logger: a.log,
		Metrics: a.metrics, Now: s.now, DeviceKey: deviceKey(keys.Keyring().Primary())})
	return err
}

// deviceKey derives the key that signs device tokens from the sealing key,
// so every instance of an installation agrees on it without one more
// secret to distribute. A key rotation makes browsers' device tokens
// unknown; they count against the account's limit until the next correct
// password gives them new ones.
func deviceKey(k seal.Key) []byte {
	mac := hmac.New(sha256.New, k[:])
	mac.Write([]byte("clientarea device tokens"))
	return mac.Sum(nil)
}

// hashOptions are the password hasher's options: the queue metric, and
// worker processes unless they are turned off.
func (a *app) hashOptions() []password.Option {
	opts := []password.Option{password.WithQueueWait(a.metrics.HashQueueWait)}
	if !a.cfg.HashWorkers {
		return opts
	}
	// On Linux /proc/self/exe is the running binary even after an upgrade
	// has replaced or deleted the file, so a worker is never a different
	// version that might answer in another protocol.
	exe := "/proc/self/exe"
	if _, err := os.Stat(exe); err != nil {
		if exe, err = os.Executable(); err != nil {
			a.log.Warn("hashing passwords in the server: its own binary is not found", "err", err)
			return opts
		}
	}
	return append(opts, password.WithWorkers([]string{exe, hashWorkerCommand}, func(err error) {
		a.log.Warn("password worker failed; the hash was made in the server", "err", err)
	}))
}

func (a *app) Close() error {
	var err error
	if a.hasher != nil {
		err = a.hasher.Close()
	}
	return errors.Join(err, a.store.Close())
}

// loadKeys reads the sealing keys from CLIENTAREA_SECRET_KEY (several,
// comma-separated, during a rotation: the new one first) or from the key
// file in the data folder, made on first start.
func loadKeys(cfg config.Config) (keySource, error) {
	if cfg.SecretKey == "" {
		return seal.OpenFileKeyring(keyFilePath(cfg), nil)
	}
	var keys []seal.Key
	for i, part := range strings.Split(cfg.SecretKey, ",") {
		k, err := seal.ParseKey(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("CLIENTAREA_SECRET_KEY, key %d: %w", i+1, err)
		}
		keys = append(keys, k)
	}
	ring, err := seal.NewKeyring(keys...)
	if err != nil {
		return nil, err
	}
	return fixedKeys{ring}, nil
}

func keyFilePath(cfg config.Config) string { return filepath.Join(cfg.Data, "secret.key") }

// checkKey compares the keyring with the check value in the database,
// storing the value on first start.
func checkKey(ctx context.Context, st *store.Store, ring *seal.Keyring) error {
	id := ring.Primary().ID()
	stored, err := st.Setting(ctx, keyCheckSetting)
	if errors.Is(err, auth.ErrNotFound) {
		if _, err := st.PutSetting(ctx, keyCheckSetting, "", id); err != nil {
			return err
		}
		stored, err = st.Setting(ctx, keyCheckSetting)
	}
	if err != nil {
		return err
	}
	if !ring.Has(stored) {
		return fmt.Errorf("the secret key does not match this database (it was sealed with key "+
			"id %s, this instance has %s): give every instance the same CLIENTAREA_SECRET_KEY "+
			"or the data folder's secret.key", stored, id)
	}
	return nil
}
