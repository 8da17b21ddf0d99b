package store

import (
	"fmt"
	"path/filepath"
	"testing"
)

// TestStmtCacheNestedQuery runs a query again on the same connection
// while its first rows are still open, which one kept statement cannot
// serve twice: the second use must get a statement of its own, and both
// must read their own rows.
func TestStmtCacheNestedQuery(t *testing.T) {
	db, err := openSQLiteDB("file:" + filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := t.Context()
	if _, err := db.ExecContext(ctx, "CREATE TABLE n (v INTEGER)"); err != nil {
		t.Fatal(err)
	}
	for _, v := range []int{1, 2, 3} {
		if _, err := db.ExecContext(ctx, "INSERT INTO n VALUES (?)", v); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	const q = "SELECT v FROM n WHERE v >= ? ORDER BY v"
	outer, err := tx.QueryContext(ctx, q, 1)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for outer.Next() {
		var v int
		if err := outer.Scan(&v); err != nil {
			t.Fatal(err)
		}
		var inner []int
		rows, err := tx.QueryContext(ctx, q, v+1)
		if err != nil {
			t.Fatalf("nested query: %v", err)
		}
		for rows.Next() {
			var w int
			rows.Scan(&w)
			inner = append(inner, w)
		}
		rows.Close()
		got = append(got, fmt.Sprint(v, inner))
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	outer.Close()
	want := []string{"1 [2 3]", "2 [3]", "3 []"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestStmtCacheBound runs more distinct queries than a connection keeps;
// those past the bound run unkept and still answer.
func TestStmtCacheBound(t *testing.T) {
	db, err := openSQLiteDB("file:" + filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for i := range maxCachedStmts + 10 {
		var got int
		err := db.QueryRowContext(t.Context(), fmt.Sprintf("SELECT %d + ?", i), 1).Scan(&got)
		if err != nil || got != i+1 {
			t.Fatalf("query %d: got %d, %v; want %d", i, got, err, i+1)
		}
	}
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	err = conn.Raw(func(c any) error {
		if n := len(c.(*stmtCacheConn).stmts); n != maxCachedStmts {
			t.Errorf("the connection keeps %d statements, want %d", n, maxCachedStmts)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
