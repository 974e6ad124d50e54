package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"time"
)

// writeFunc is one logical write. It may run more than once (see doc.go).
type writeFunc func(tx *txn) error

// writer runs write transactions against one database.
type writer interface {
	write(ctx context.Context, fn writeFunc) error
	// writeAppend is write for a delivery that op also describes as data:
	// the SQLite group writer may run it together with the deliveries
	// queued beside it (see insertBatchTx). fn alone defines what it does.
	writeAppend(ctx context.Context, fn writeFunc, op *appendOp) error
	close()
}

// maxBatch bounds how many queued writes share one SQLite transaction, so
// that one group's commit latency stays small.
const maxBatch = 64

// groupWriter is the single writer of one SQLite file. Writes queue on a
// channel; the loop takes every write waiting, runs them inside one BEGIN
// IMMEDIATE transaction and commits once, so concurrent deliveries share
// one fsync. A group runs first without savepoints, with the deliveries
// queued next to each other stored as one batch (insertBatchTx); if any
// write fails, it runs again write by write, each in its own savepoint.
type groupWriter struct {
	db    *sql.DB // MaxOpenConns(1), _txlock=immediate
	stmts *stmtCache
	ckpt  *checkpointer
	reqs  chan *writeReq
	quit  chan struct{}
	done  chan struct{}
}

type writeReq struct {
	ctx context.Context
	fn  writeFunc
	op  *appendOp // nil: not a delivery
	res chan error
}

func newGroupWriter(db *sql.DB) *groupWriter {
	g := &groupWriter{db: db, stmts: newStmtCache(db), ckpt: newCheckpointer(db),
		reqs: make(chan *writeReq, maxBatch), quit: make(chan struct{}), done: make(chan struct{})}
	go g.loop()
	return g
}

func (g *groupWriter) write(ctx context.Context, fn writeFunc) error {
	return g.writeAppend(ctx, fn, nil)
}

func (g *groupWriter) writeAppend(ctx context.Context, fn writeFunc, op *appendOp) error {
	req := &writeReq{ctx: ctx, fn: fn, op: op, res: make(chan error, 1)}
	select {
	case g.reqs <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-g.quit:
		return ErrClosed
	}
	// Once queued the write may commit: wait for its outcome whatever the
	// context says, so the caller never reports a failure that succeeded.
	return <-req.res
}

// close finishes the writes already queued, then stops.
func (g *groupWriter) close() {
	close(g.quit)
	<-g.done
	g.ckpt.close()
	g.stmts.close()
}

func (g *groupWriter) loop() {
	defer close(g.done)
	for {
		var first *writeReq
		select {
		case first = <-g.reqs:
		case <-g.quit:
			for {
				select {
				case r := <-g.reqs:
					g.run([]*writeReq{r})
				default:
					return
				}
			}
		}
		batch := []*writeReq{first}
	drain:
		for len(batch) < maxBatch {
			select {
			case r := <-g.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		g.run(batch)
		g.stmts.prepareWanted()
	}
}

func (g *groupWriter) run(batch []*writeReq) {
	var results []error
	var err error
	defer func() {
		if err == nil {
			var size int64
			for _, r := range batch {
				if r.op != nil {
					size += r.op.in.size
				}
			}
			g.ckpt.committed(len(batch), size)
		}
	}()
	for attempt := 0; ; attempt++ {
		// First without savepoints (two statements fewer per write) and
		// with the deliveries batched; if a write fails, the group is run
		// again write by write, each in a savepoint, so that the failure
		// undoes only its own changes.
		results, err = g.try(batch, len(batch) > 1 && attempt == 0)
		if errors.Is(err, errRetryWithSavepoints) {
			results, err = g.try(batch, false)
		}
		if err == nil || !isRetryable(err) || attempt >= 100 {
			break
		}
		backoff(attempt)
	}
	for i, r := range batch {
		if err != nil {
			r.res <- err
		} else {
			r.res <- results[i]
		}
	}
}

// afterCommit, nil but in benchmarks, runs on the writer right after each
// commit, while the writer is still busy: BenchmarkAppend10KB's slow-disk
// variant sleeps there, as a commit on a disk with a slower fsync would.
var afterCommit func()

// try runs one attempt of a batch. A busy error aborts the whole attempt;
// any other error of one write rolls back only that write's savepoint.
// errRetryWithSavepoints: a write of a group run without savepoints
// failed, so the group must run again with them.
var errRetryWithSavepoints = errors.New("retry with savepoints")

func (g *groupWriter) try(batch []*writeReq, optimistic bool) ([]error, error) {
	sqlTx, err := g.db.Begin()
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	tx := &txn{Tx: sqlTx, stmts: g.stmts, sqlite: true}
	results := make([]error, len(batch))
	ok := 0
	// Optimistic runs put deliveries next to each other in one batch, run
	// before the next write that is not one of them.
	var ops []*writeReq
	flush := func() error {
		if len(ops) == 0 {
			return nil
		}
		err := runOps(tx, ops)
		if err != nil {
			tx.Rollback()
			if isRetryable(err) {
				return err
			}
			return errRetryWithSavepoints
		}
		ok += len(ops)
		ops = ops[:0]
		return nil
	}
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		if optimistic && r.op != nil {
			ops = append(ops, r)
			continue
		}
		if err := flush(); err != nil {
			return nil, err
		}
		var err error
		if len(batch) == 1 || optimistic {
			err = r.fn(tx) // alone: a failure rolls back the whole transaction
			if err != nil && optimistic && !isRetryable(err) {
				tx.Rollback()
				return nil, errRetryWithSavepoints
			}
		} else {
			err = inSavepoint(tx, "op", r.fn)
		}
		if err != nil && isRetryable(err) {
			tx.Rollback()
			return nil, err
		}
		results[i] = err
		if err == nil {
			ok++
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if ok == 0 {
		return results, tx.Rollback()
	}
	if err := tx.Commit(); err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("commit: %w", err)
	}
	if afterCommit != nil {
		afterCommit()
	}
	return results, nil
}

// runOps runs queued deliveries: together when there are several, alone
// through their own write function otherwise. Any error means the group
// must run again write by write.
func runOps(tx *txn, reqs []*writeReq) error {
	if len(reqs) == 1 {
		return reqs[0].fn(tx)
	}
	ops := make([]*appendOp, len(reqs))
	for i, r := range reqs {
		ops[i] = r.op
	}
	return insertBatchTx(tx, ops)
}

// inSavepoint runs fn so that its failure undoes only its own changes.
func inSavepoint(tx *txn, name string, fn writeFunc) error {
	if _, err := tx.Exec("SAVEPOINT " + name); err != nil {
		return err
	}
	ferr := fn(tx)
	if ferr != nil {
		if _, err := tx.Exec("ROLLBACK TO SAVEPOINT " + name); err != nil {
			return errors.Join(ferr, err)
		}
	}
	if _, err := tx.Exec("RELEASE SAVEPOINT " + name); err != nil {
		return errors.Join(ferr, err)
	}
	return ferr
}

// checkpointWrites is how many committed writes make the checkpointer copy
// the WAL back into the database file: a few hundred WAL frames for
// ordinary mail. checkpointBytes does the same for large messages, which
// would otherwise fill the WAL past walBackstop between two kicks and
// leave the copy to the writer, while every delivery waits.
const (
	checkpointWrites = 32
	checkpointBytes  = 2 << 20
)

// walBackstop is the writer connection's own wal_autocheckpoint, in pages.
// The checkpointer keeps the WAL below it; when commits come so fast that
// its copies never catch up with the end of the WAL, the writer's automatic
// checkpoint copies the little that is left and lets the WAL start over.
const walBackstop = 4000

// checkpointer copies the WAL back into the database file on a connection
// of its own. Left to SQLite, the commit that takes the WAL past 1000 pages
// does that copy, and an fsync of the database file, on the single writer
// while every queued write waits. A PASSIVE checkpoint takes no lock that
// writers or readers wait for, and commits stay durable by their own WAL
// fsync. SQLite syncs the database file only after a checkpoint that
// reaches the end of the WAL, which under steady writes is the writer's;
// the checkpointer syncs after its own copies, so that the writer's sync
// finds little left to write.
type checkpointer struct {
	path    string // the database file; "" when SQLite checkpoints alone
	pending int    // writes committed since the last kick; writer goroutine only
	bytes   int64  // message bytes among them
	kick    chan struct{}
	stop    chan struct{}
	stopped chan struct{}
}

func newCheckpointer(wdb *sql.DB) *checkpointer {
	c := &checkpointer{kick: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{})}
	var seq int
	var name, file string
	if err := wdb.QueryRow(`PRAGMA database_list`).Scan(&seq, &name, &file); err != nil || file == "" {
		close(c.stopped)
		return c
	}
	if _, err := wdb.Exec(fmt.Sprintf(`PRAGMA wal_autocheckpoint = %d`, walBackstop)); err != nil {
		close(c.stopped)
		return c
	}
	c.path = file
	go c.loop()
	return c
}

// committed notes n writes committed by the writer, delivering size bytes
// of messages, and wakes the checkpointer when enough have gathered. It
// never blocks.
func (c *checkpointer) committed(n int, size int64) {
	if c.path == "" {
		return
	}
	c.pending += n
	c.bytes += size
	if c.pending < checkpointWrites && c.bytes < checkpointBytes {
		return
	}
	select {
	case c.kick <- struct{}{}:
		c.pending, c.bytes = 0, 0
	default: // a checkpoint is running or already asked for
	}
}

func (c *checkpointer) loop() {
	defer close(c.stopped)
	var db *sql.DB
	var file *os.File // the database file, to sync
	synced := 0       // WAL frames copied at the last sync
	defer func() {
		if db != nil {
			db.Close()
		}
		if file != nil {
			file.Close()
		}
	}()
	for {
		select {
		case <-c.stop:
			return
		case <-c.kick:
		}
		if db == nil {
			f, err := os.Open(c.path)
			if err != nil {
				continue
			}
			db, err = sql.Open("sqlite3", "file:"+url.PathEscape(c.path)+"?mode=rw&_busy_timeout=1000&_synchronous=FULL")
			if err != nil {
				f.Close()
				db = nil
				continue
			}
			file = f
			db.SetMaxOpenConns(1)
			db.SetMaxIdleConns(1)
			db.SetConnMaxIdleTime(0)
			db.SetConnMaxLifetime(0)
		}
		// Best effort: frames a checkpoint leaves stay in the WAL, where
		// readers find them and the writer's own checkpoint copies them.
		var busy, log, done int
		if err := db.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &done); err != nil {
			continue
		}
		if done > 0 && done < log && done != synced {
			file.Sync() // a failure leaves the work to SQLite's own sync
			synced = done
		}
	}
}

func (c *checkpointer) close() {
	if c.path != "" {
		close(c.stop)
	}
	<-c.stopped
}

// txWriter runs each write in its own transaction and retries it on
// serialisation failures: PostgreSQL does its own group commit.
type txWriter struct{ db *sql.DB }

func (w txWriter) write(ctx context.Context, fn writeFunc) error {
	for attempt := 0; ; attempt++ {
		err := w.try(ctx, fn)
		if err == nil || !isRetryable(err) || attempt >= 20 {
			return err
		}
		backoff(attempt)
	}
}

func (w txWriter) try(ctx context.Context, fn writeFunc) error {
	sqlTx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := &txn{Tx: sqlTx}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// writeAppend: PostgreSQL runs every delivery in its own transaction.
func (w txWriter) writeAppend(ctx context.Context, fn writeFunc, _ *appendOp) error {
	return w.write(ctx, fn)
}

func (txWriter) close() {}

func backoff(attempt int) {
	d := time.Duration(1+min(attempt, 8)) * time.Millisecond
	time.Sleep(d + time.Duration(rand.Int64N(int64(d))))
}
