package storage

import (
	"container/list"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "github.com/mattn/go-sqlite3"    // database/sql driver "sqlite3"
)

// tenant is one database: a domain's SQLite file, or the shared PostgreSQL
// database.
type tenant struct {
	db      *sql.DB // readers
	w       writer
	wdb     *sql.DB // the SQLite writer connection, closed with the tenant
	blobDir string  // where the file blob backend keeps this tenant's blobs
	dialect *dialect

	// router bookkeeping, under the router's lock
	domain   string
	refs     int
	lastUsed time.Time
	elem     *list.Element
}

func (t *tenant) write(ctx context.Context, fn writeFunc) error { return t.w.write(ctx, fn) }

// snapshot starts a read-only transaction whose statements all see one
// state of the database: REPEATABLE READ on PostgreSQL (READ COMMITTED
// would give each statement its own), a plain read transaction on SQLite
// (WAL readers keep their snapshot until the end).
func (t *tenant) snapshot(ctx context.Context) (*sql.Tx, error) {
	return t.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
}

func (t *tenant) close() error {
	t.w.close()
	err := t.db.Close()
	if t.wdb != nil {
		err = errors.Join(err, t.wdb.Close())
	}
	return err
}

// router finds the tenant holding a domain.
type router interface {
	acquire(ctx context.Context, domain string) (*tenant, error)
	release(t *tenant)
	addDomain(ctx context.Context, domain string) error
	deleteDomain(ctx context.Context, domain string) error
	domains(ctx context.Context) ([]string, error)
	close() error
}

// validDomain accepts lower-case DNS names (IDNs in their A-label form).
func validDomain(d string) error {
	if d == "" || len(d) > 253 || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") || strings.Contains(d, "..") {
		return fmt.Errorf("%w: domain %q", ErrInvalidName, d)
	}
	for _, c := range d {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return fmt.Errorf("%w: domain %q: only a-z, 0-9, '-' and '.' are allowed", ErrInvalidName, d)
		}
	}
	return nil
}

// sqliteRouter keeps at most max domain files open, least recently used
// first out, and closes those idle for longer than idle.
type sqliteRouter struct {
	dir  string // <data>/domains
	max  int
	idle time.Duration

	mu   sync.Mutex
	open map[string]*tenant
	lru  *list.List // front: most recently used
	// opening serialises opens of one domain so a file is opened once.
	opening map[string]chan struct{}
	stop    chan struct{}
	stopped chan struct{}
}

func newSQLiteRouter(dataDir string, max int, idle time.Duration) (*sqliteRouter, error) {
	dir := filepath.Join(dataDir, "domains")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	r := &sqliteRouter{dir: dir, max: max, idle: idle, open: map[string]*tenant{}, lru: list.New(),
		opening: map[string]chan struct{}{}, stop: make(chan struct{}), stopped: make(chan struct{})}
	go r.janitor()
	return r, nil
}

func (r *sqliteRouter) domainDir(domain string) string { return filepath.Join(r.dir, domain) }
func (r *sqliteRouter) dbPath(domain string) string {
	return filepath.Join(r.domainDir(domain), "letterbox.db")
}

func (r *sqliteRouter) acquire(ctx context.Context, domain string) (*tenant, error) {
	if err := validDomain(domain); err != nil {
		return nil, err
	}
	for {
		r.mu.Lock()
		if r.open == nil {
			r.mu.Unlock()
			return nil, ErrClosed
		}
		if t := r.open[domain]; t != nil {
			t.refs++
			r.lru.MoveToFront(t.elem)
			r.mu.Unlock()
			return t, nil
		}
		if wait, busy := r.opening[domain]; busy {
			r.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		done := make(chan struct{})
		r.opening[domain] = done
		r.mu.Unlock()

		t, err := r.openTenant(ctx, domain, false)

		r.mu.Lock()
		delete(r.opening, domain)
		close(done)
		if err != nil {
			r.mu.Unlock()
			return nil, err
		}
		if r.open == nil {
			r.mu.Unlock()
			t.close()
			return nil, ErrClosed
		}
		t.refs = 1
		t.elem = r.lru.PushFront(t)
		r.open[domain] = t
		victims := r.evictLocked()
		r.mu.Unlock()
		closeAll(victims)
		return t, nil
	}
}

func (r *sqliteRouter) release(t *tenant) {
	r.mu.Lock()
	t.refs--
	t.lastUsed = time.Now()
	victims := r.evictLocked()
	r.mu.Unlock()
	closeAll(victims)
}

// evictLocked takes unused tenants off the list while more than max are
// open. Tenants in use stay open: the limit may be passed for a while.
func (r *sqliteRouter) evictLocked() []*tenant {
	var victims []*tenant
	for e := r.lru.Back(); e != nil && r.lru.Len() > r.max; {
		prev := e.Prev()
		t := e.Value.(*tenant)
		if t.refs == 0 {
			r.lru.Remove(e)
			delete(r.open, t.domain)
			victims = append(victims, t)
		}
		e = prev
	}
	return victims
}

func closeAll(ts []*tenant) {
	for _, t := range ts {
		t.close()
	}
}

// janitor closes domain files nobody used for a while.
func (r *sqliteRouter) janitor() {
	defer close(r.stopped)
	tick := time.NewTicker(max(r.idle/4, time.Second))
	defer tick.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-tick.C:
		}
		var victims []*tenant
		r.mu.Lock()
		for d, t := range r.open {
			if t.refs == 0 && time.Since(t.lastUsed) > r.idle {
				r.lru.Remove(t.elem)
				delete(r.open, d)
				victims = append(victims, t)
			}
		}
		r.mu.Unlock()
		closeAll(victims)
	}
}

// openTenant opens a domain's file, creating it only when create is set.
func (r *sqliteRouter) openTenant(ctx context.Context, domain string, create bool) (*tenant, error) {
	path := r.dbPath(domain)
	if !create {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s", ErrNoDomain, domain)
		}
	} else if err := os.MkdirAll(r.domainDir(domain), 0o750); err != nil {
		return nil, fmt.Errorf("create domain directory: %w", err)
	}
	t, err := openSQLite(ctx, path, create)
	if err != nil {
		return nil, fmt.Errorf("open domain %s: %w", domain, err)
	}
	t.domain = domain
	t.blobDir = filepath.Join(r.domainDir(domain), "blobs")
	return t, nil
}

// openSQLite opens one database file: a single writer connection with
// durable commits (synchronous=FULL in WAL mode fsyncs at each commit), and a
// pool of read-only readers.
func openSQLite(ctx context.Context, path string, create bool) (*tenant, error) {
	// mode=rw: an open racing a domain's deletion fails rather than
	// creating an empty database.
	mode := "rw"
	if create {
		mode = "rwc"
	}
	common := "mode=" + mode + "&_busy_timeout=10000&_foreign_keys=on&_cache_size=-16000"
	wdb, err := sql.Open("sqlite3", "file:"+url.PathEscape(path)+"?"+common+"&_journal_mode=WAL&_synchronous=FULL&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxIdleTime(0)
	wdb.SetConnMaxLifetime(0)
	if err := migrate(ctx, wdb, sqliteDialect); err != nil {
		wdb.Close()
		return nil, err
	}
	rdb, err := sql.Open("sqlite3", "file:"+url.PathEscape(path)+"?mode=rw&_busy_timeout=10000&_foreign_keys=on&_cache_size=-16000&_query_only=1&_stmt_cache_size=64")
	if err != nil {
		wdb.Close()
		return nil, err
	}
	if err := rdb.PingContext(ctx); err != nil {
		wdb.Close()
		rdb.Close()
		return nil, err
	}
	n := max(4, 2*runtime.NumCPU())
	rdb.SetMaxOpenConns(n)
	rdb.SetMaxIdleConns(n)
	return &tenant{db: rdb, w: newGroupWriter(wdb), wdb: wdb, dialect: sqliteDialect}, nil
}

func (r *sqliteRouter) addDomain(ctx context.Context, domain string) error {
	if err := validDomain(domain); err != nil {
		return err
	}
	if _, err := os.Stat(r.dbPath(domain)); err == nil {
		return fmt.Errorf("domain %s: %w", domain, ErrExists)
	}
	t, err := r.openTenant(ctx, domain, true)
	if err != nil {
		return err
	}
	defer t.close()
	return t.write(ctx, func(tx *txn) error {
		_, err := tx.Exec(`INSERT INTO domains (name) VALUES ($1) ON CONFLICT DO NOTHING`, domain)
		return err
	})
}

func (r *sqliteRouter) deleteDomain(ctx context.Context, domain string) error {
	if err := validDomain(domain); err != nil {
		return err
	}
	// Hold the domain's "opening" slot while deleting, so that an open in
	// progress finishes first and opens started meanwhile wait, then find
	// the file gone.
	r.mu.Lock()
	for {
		wait, busy := r.opening[domain]
		if !busy {
			break
		}
		r.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		}
		r.mu.Lock()
	}
	t := r.open[domain]
	if t != nil && t.refs > 0 {
		r.mu.Unlock()
		return fmt.Errorf("domain %s is in use; try again", domain)
	}
	if t != nil {
		r.lru.Remove(t.elem)
		delete(r.open, domain)
	}
	mine := make(chan struct{})
	r.opening[domain] = mine
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.opening, domain)
		r.mu.Unlock()
		close(mine)
	}()
	if t != nil {
		t.close()
	}
	if _, err := os.Stat(r.dbPath(domain)); err != nil {
		return fmt.Errorf("%w: %s", ErrNoDomain, domain)
	}
	return os.RemoveAll(r.domainDir(domain))
}

func (r *sqliteRouter) domains(ctx context.Context) ([]string, error) {
	entries, err := os.ReadDir(r.dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if _, err := os.Stat(r.dbPath(e.Name())); err == nil && validDomain(e.Name()) == nil {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

func (r *sqliteRouter) close() error {
	r.mu.Lock()
	open := r.open
	r.open = nil
	r.mu.Unlock()
	if open == nil {
		return nil
	}
	close(r.stop)
	<-r.stopped
	var err error
	for _, t := range open {
		err = errors.Join(err, t.close())
	}
	return err
}

// pgRouter serves every domain from one PostgreSQL database.
type pgRouter struct{ t *tenant }

func newPGRouter(ctx context.Context, dsn, blobDir string) (*pgRouter, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(max(8, 4*runtime.NumCPU()))
	db.SetMaxIdleConns(max(8, 4*runtime.NumCPU()))
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	if err := migrate(ctx, db, postgresDialect); err != nil {
		db.Close()
		return nil, err
	}
	return &pgRouter{t: &tenant{db: db, w: txWriter{db}, blobDir: blobDir, dialect: postgresDialect}}, nil
}

func (p *pgRouter) acquire(ctx context.Context, domain string) (*tenant, error) {
	if err := validDomain(domain); err != nil {
		return nil, err
	}
	return p.t, nil
}

func (p *pgRouter) release(*tenant) {}

func (p *pgRouter) addDomain(ctx context.Context, domain string) error {
	if err := validDomain(domain); err != nil {
		return err
	}
	err := p.t.write(ctx, func(tx *txn) error {
		_, err := tx.Exec(`INSERT INTO domains (name) VALUES ($1)`, domain)
		return err
	})
	if isUnique(err) {
		return fmt.Errorf("domain %s: %w", domain, ErrExists)
	}
	return err
}

func (p *pgRouter) deleteDomain(ctx context.Context, domain string) error {
	return errors.New("internal: pgRouter.deleteDomain is done by Store.DeleteDomain")
}

func (p *pgRouter) domains(ctx context.Context) ([]string, error) {
	rows, err := p.t.db.QueryContext(ctx, `SELECT name FROM domains ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func (p *pgRouter) close() error { return p.t.close() }
