package storage

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// txn is a write transaction. For SQLite it runs every statement through a
// statement prepared once per database file: the single writer would
// otherwise spend a quarter of its time re-preparing the same SQL. (pgx
// caches prepared statements by itself.)
type txn struct {
	*sql.Tx
	stmts *stmtCache // nil: no caching
	// sqlite: the hot write paths avoid RETURNING, which makes SQLite run
	// the statement in a statement journal (a copy of every page it
	// changes, about 10 µs a statement); they read the row back instead.
	sqlite bool
}

// stmtCache holds statements prepared on the SQLite writer connection. A
// statement cannot be prepared on that connection while a transaction holds
// it, so a query seen for the first time runs unprepared and is noted;
// the writer prepares the noted ones between transactions.
type stmtCache struct {
	db     *sql.DB
	mu     sync.Mutex
	m      map[string]*sql.Stmt
	wanted map[string]bool
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}, wanted: map[string]bool{}}
}

func (c *stmtCache) get(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.m[query]
	if st == nil && c.m != nil {
		c.wanted[query] = true
	}
	return st
}

// prepareWanted prepares the noted queries; call it with no transaction open.
func (c *stmtCache) prepareWanted() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q := range c.wanted {
		if st, err := c.db.Prepare(q); err == nil {
			c.m[q] = st
		}
		delete(c.wanted, q)
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}

// stmt returns query's statement bound to this transaction, or nil when it
// should simply be run (no cache, or a statement that will not prepare such
// as a multi-statement migration).
func (tx *txn) stmt(query string) *sql.Stmt {
	if tx.stmts == nil {
		return nil
	}
	st := tx.stmts.get(query)
	if st == nil {
		return nil
	}
	return tx.Tx.Stmt(st)
}

// updateOneRow runs an UPDATE of one row; sql.ErrNoRows if there is none.
func updateOneRow(tx *txn, query string, args ...any) error {
	res, err := tx.Exec(query, args...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return errors.Join(sql.ErrNoRows, err)
	}
	return nil
}

func (tx *txn) Exec(query string, args ...any) (sql.Result, error) {
	if st := tx.stmt(query); st != nil {
		return st.Exec(args...)
	}
	return tx.Tx.Exec(query, args...)
}

func (tx *txn) Query(query string, args ...any) (*sql.Rows, error) {
	if st := tx.stmt(query); st != nil {
		return st.Query(args...)
	}
	return tx.Tx.Query(query, args...)
}

func (tx *txn) QueryRow(query string, args ...any) *sql.Row {
	if st := tx.stmt(query); st != nil {
		return st.QueryRow(args...)
	}
	return tx.Tx.QueryRow(query, args...)
}

func (tx *txn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := tx.stmt(query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return tx.Tx.QueryContext(ctx, query, args...)
}

func (tx *txn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := tx.stmt(query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return tx.Tx.QueryRowContext(ctx, query, args...)
}
