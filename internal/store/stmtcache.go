package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"sync"

	"modernc.org/sqlite"
)

// maxCachedStmts bounds the statements one connection keeps. clientarea
// sends a few dozen distinct queries; the bound only keeps a caller that
// builds queries from data from growing the cache without end.
const maxCachedStmts = 256

// openSQLiteDB opens a pool of SQLite connections that keep their
// prepared statements.
func openSQLiteDB(dsn string) (*sql.DB, error) {
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(stmtCacheConnector{c}), nil
}

// stmtCacheConnector opens SQLite connections that keep every statement
// they prepare. The SQLite driver parses a query's text again on each
// call, and on the sign-in path the parsing cost more than running the
// queries did (docs/benchmarks.md has the profile); keeping the parsed
// statement per connection removes that work and changes nothing else.
type stmtCacheConnector struct {
	driver.Connector
}

// Connect opens a connection with an empty statement cache.
func (c stmtCacheConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	inner, ok := conn.(sqliteConn)
	if !ok {
		conn.Close()
		return nil, errors.New("store: the sqlite driver lacks a context method")
	}
	return &stmtCacheConn{sqliteConn: inner, stmts: map[string]*cachedStmt{}}, nil
}

// sqliteConn is what database/sql needs of the driver's connection to
// keep contexts and validation working; the wrapper must offer it too,
// or database/sql would fall back to the context-free methods.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// stmtCacheConn is one connection and its statements. database/sql uses
// a connection from one goroutine at a time, so the map needs no lock;
// the mutex only guards against that rule ever being broken.
type stmtCacheConn struct {
	sqliteConn
	mu    sync.Mutex
	stmts map[string]*cachedStmt
}

type cachedStmt struct {
	stmt interface {
		driver.Stmt
		driver.StmtExecContext
		driver.StmtQueryContext
	}
	// busy is set while the statement's rows are open: a second use of
	// the same query before they close gets a statement of its own.
	busy bool
}

// cached returns the statement for query, prepared on first use, or nil
// when it is in use or cannot be kept.
func (c *stmtCacheConn) cached(ctx context.Context, query string) (*cachedStmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.stmts[query]; ok {
		if s.busy {
			return nil, nil
		}
		return s, nil
	}
	if len(c.stmts) >= maxCachedStmts {
		return nil, nil
	}
	st, err := c.sqliteConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	full, ok := st.(interface {
		driver.Stmt
		driver.StmtExecContext
		driver.StmtQueryContext
	})
	if !ok {
		st.Close()
		return nil, nil
	}
	s := &cachedStmt{stmt: full}
	c.stmts[query] = s
	return s, nil
}

// ExecContext runs query through its kept statement.
func (c *stmtCacheConn) ExecContext(ctx context.Context, query string,
	args []driver.NamedValue) (driver.Result, error) {
	s, err := c.cached(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.sqliteConn.ExecContext(ctx, query, args)
	}
	return s.stmt.ExecContext(ctx, args)
}

// QueryContext runs query through its kept statement; the statement is
// reset for the next use when the rows are closed.
func (c *stmtCacheConn) QueryContext(ctx context.Context, query string,
	args []driver.NamedValue) (driver.Rows, error) {
	s, err := c.cached(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.sqliteConn.QueryContext(ctx, query, args)
	}
	rows, err := s.stmt.QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	s.busy = true
	c.mu.Unlock()
	return &cachedRows{Rows: rows, release: func() {
		c.mu.Lock()
		s.busy = false
		c.mu.Unlock()
	}}, nil
}

// Close closes the kept statements and the connection.
func (c *stmtCacheConn) Close() error {
	c.mu.Lock()
	var errs []error
	for _, s := range c.stmts {
		errs = append(errs, s.stmt.Close())
	}
	c.stmts = nil
	c.mu.Unlock()
	return errors.Join(append(errs, c.sqliteConn.Close())...)
}

// cachedRows marks its statement free again when closed.
type cachedRows struct {
	driver.Rows
	release func()
	once    sync.Once
}

// Close closes the rows and frees their statement for the next query.
func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.once.Do(r.release)
	return err
}
