package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/clientarea/clientarea/internal/auth"
	"github.com/clientarea/clientarea/internal/store"
	"github.com/clientarea/clientarea/internal/storetest"
)

// TestAtomic sends many units of work at once, as the second factor's
// requests do. On SQLite they share commits (group commit); on both
// engines each must act as a transaction of its own: a unit that fails or
// panics leaves nothing behind and takes no other unit with it, and
// read-modify-write units on one account, ordered by LockAccount, lose no
// update.
func TestAtomic(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ctx := t.Context()
		shared, err := st.CreateAccount(ctx, auth.Account{Email: "shared@example.com",
			PasswordHash: "h", Role: auth.RoleCustomer, Lang: "en", CreatedAt: t0})
		if err != nil {
			t.Fatal(err)
		}
		const n = 60
		errFailed := errors.New("unit failed on purpose")
		fails := func(i int) bool { return i%3 == 0 }
		panics := func(i int) bool { return i%7 == 1 }
		errs := make([]error, n)
		recovered := make([]any, n)
		storetest.Race(n, func(i int) {
			defer func() { recovered[i] = recover() }()
			errs[i] = st.Atomic(ctx, func(tx auth.Store) error {
				_, err := tx.CreateAccount(ctx, auth.Account{Email: email(i),
					PasswordHash: "h", Role: auth.RoleCustomer, Lang: "en", CreatedAt: t0})
				if err != nil {
					return err
				}
				if err := tx.LockAccount(ctx, shared.ID); err != nil {
					return err
				}
				g, err := tx.FactorGuard(ctx, shared.ID)
				if err != nil {
					return err
				}
				g.Consecutive++
				g.Version++
				if ok, err := tx.SwapFactorGuard(ctx, g); err != nil || !ok {
					return fmt.Errorf("swap guard: %v, %v", ok, err)
				}
				switch {
				case panics(i):
					panic(fmt.Sprintf("unit %d", i))
				case fails(i):
					return errFailed
				}
				return nil
			})
		})
		committed := 0
		for i := range n {
			_, err := st.AccountByEmail(ctx, email(i))
			switch {
			case panics(i):
				if recovered[i] != fmt.Sprintf("unit %d", i) {
					t.Errorf("unit %d: recovered %v, want its own panic", i, recovered[i])
				}
			case fails(i):
				if !errors.Is(errs[i], errFailed) {
					t.Errorf("unit %d: got %v, want its own error", i, errs[i])
				}
			default:
				if errs[i] != nil || recovered[i] != nil {
					t.Errorf("unit %d: got %v, %v; want nil", i, errs[i], recovered[i])
				}
				if err != nil {
					t.Errorf("unit %d committed, but its account: %v", i, err)
				}
				committed++
				continue
			}
			if !errors.Is(err, auth.ErrNotFound) {
				t.Errorf("unit %d was rolled back, but its account: got %v, want ErrNotFound", i, err)
			}
		}
		g, err := st.FactorGuard(ctx, shared.ID)
		if err != nil || g.Consecutive != committed {
			t.Errorf("counter: got %d (%v), want %d, one per committed unit", g.Consecutive, err, committed)
		}
	})
}

func email(i int) string { return fmt.Sprintf("unit-%d@example.com", i) }

// TestLoneUnit sends units one at a time, so that each runs in a batch of
// its own: one that fails or panics leaves nothing behind, its caller
// hears its own error or panic, and the next unit commits as usual.
func TestLoneUnit(t *testing.T) {
	st := storetest.Open(t, storetest.SQLite)
	ctx := t.Context()
	errFailed := errors.New("unit failed on purpose")
	write := func(i int, then func() error) error {
		return st.Atomic(ctx, func(tx auth.Store) error {
			_, err := tx.CreateAccount(ctx, auth.Account{Email: email(i),
				PasswordHash: "h", Role: auth.RoleCustomer, Lang: "en", CreatedAt: t0})
			if err != nil {
				return err
			}
			return then()
		})
	}
	if err := write(0, func() error { return errFailed }); !errors.Is(err, errFailed) {
		t.Errorf("failing unit: got %v, want its own error", err)
	}
	func() {
		defer func() {
			if r := recover(); r != "unit 1" {
				t.Errorf("panicking unit: recovered %v, want its own panic", r)
			}
		}()
		write(1, func() error { panic("unit 1") })
	}()
	if err := write(2, func() error { return nil }); err != nil {
		t.Errorf("unit after them: %v", err)
	}
	for i, want := range []error{auth.ErrNotFound, auth.ErrNotFound, nil} {
		if _, err := st.AccountByEmail(ctx, email(i)); !errors.Is(err, want) {
			t.Errorf("account of unit %d: got %v, want %v", i, err, want)
		}
	}
}

// TestBatchUnitNotCancelled: on SQLite a cancelled statement interrupts
// the connection, and an interrupted write rolls back the whole shared
// transaction, other units' work with it. So a unit's statements run
// whatever becomes of its context.
func TestBatchUnitNotCancelled(t *testing.T) {
	st := storetest.Open(t, storetest.SQLite)
	ctx := t.Context()
	err := st.Atomic(ctx, func(tx auth.Store) error {
		gone, cancel := context.WithCancel(ctx)
		cancel()
		_, err := tx.CreateAccount(gone, auth.Account{Email: "gone@example.com",
			PasswordHash: "h", Role: auth.RoleCustomer, Lang: "en", CreatedAt: t0})
		return err
	})
	if err != nil {
		t.Fatalf("Atomic: %v", err)
	}
	if _, err := st.AccountByEmail(ctx, "gone@example.com"); err != nil {
		t.Errorf("the unit's write: %v", err)
	}
}

// TestNestedAtomic: an Atomic within Atomic that fails rolls back its own
// writes, and only those.
func TestNestedAtomic(t *testing.T) {
	storetest.EachDialect(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		ctx := t.Context()
		add := func(tx auth.Store, email string) error {
			_, err := tx.CreateAccount(ctx, auth.Account{Email: email, PasswordHash: "h",
				Role: auth.RoleCustomer, Lang: "en", CreatedAt: t0})
			return err
		}
		errInner := errors.New("inner fails")
		err := st.Atomic(ctx, func(tx auth.Store) error {
			if err := add(tx, "outer@example.com"); err != nil {
				return err
			}
			err := tx.Atomic(ctx, func(in auth.Store) error {
				if err := add(in, "inner@example.com"); err != nil {
					return err
				}
				return errInner
			})
			if !errors.Is(err, errInner) {
				return fmt.Errorf("inner: got %v, want its own error", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.AccountByEmail(ctx, "inner@example.com"); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("the failed inner unit's write: got %v, want ErrNotFound", err)
		}
		if _, err := st.AccountByEmail(ctx, "outer@example.com"); err != nil {
			t.Errorf("the outer unit's write: %v", err)
		}
	})
}

// TestCloseTwice: a second Close does nothing, as sql.DB's does.
func TestCloseTwice(t *testing.T) {
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "twice.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	st.Close()
}
