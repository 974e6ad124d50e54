package storage

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgChannel is the LISTEN/NOTIFY channel that carries change wake-ups
// between Letterbox nodes sharing one PostgreSQL database.
const pgChannel = "letterbox_changes"

// pgNotifier publishes this node's changes and wakes local watchers for
// changes other nodes made. Payload: "node domain mailbox,mailbox,...".
type pgNotifier struct {
	node   string
	db     *sql.DB
	dsn    string
	hub    *hub
	log    *slog.Logger
	out    chan string
	cancel context.CancelFunc
	done   chan struct{}
}

func startPGNotifier(db *sql.DB, dsn string, h *hub, log *slog.Logger) *pgNotifier {
	var id [6]byte
	rand.Read(id[:])
	ctx, cancel := context.WithCancel(context.Background())
	n := &pgNotifier{node: hex.EncodeToString(id[:]), db: db, dsn: dsn, hub: h, log: log,
		out: make(chan string, 1024), cancel: cancel, done: make(chan struct{})}
	go n.publishLoop(ctx)
	go n.listenLoop(ctx)
	return n
}

// publish queues a wake-up for the other nodes. It never blocks a writer:
// when the queue is full the wake-up is dropped, and remote sessions see the
// change at their next poll.
func (n *pgNotifier) publish(domain string, mailboxes []int64) {
	ids := make([]string, len(mailboxes))
	for i, id := range mailboxes {
		ids[i] = strconv.FormatInt(id, 10)
	}
	select {
	case n.out <- n.node + " " + domain + " " + strings.Join(ids, ","):
	default:
	}
}

func (n *pgNotifier) publishLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-n.out:
			if _, err := n.db.ExecContext(ctx, `SELECT pg_notify($1, $2)`, pgChannel, p); err != nil && ctx.Err() == nil {
				n.log.Warn("publish change notification", "err", err)
			}
		}
	}
}

func (n *pgNotifier) listenLoop(ctx context.Context) {
	defer close(n.done)
	for attempt := 0; ctx.Err() == nil; attempt++ {
		err := n.listen(ctx)
		if ctx.Err() != nil {
			return
		}
		n.log.Warn("LISTEN for changes failed; retrying", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(min(attempt+1, 30)) * time.Second):
		}
	}
}

func (n *pgNotifier) listen(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, n.dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+pgChannel); err != nil {
		return err
	}
	for {
		note, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		node, domain, ids, err := parseNotification(note.Payload)
		if err != nil {
			n.log.Warn("bad change notification", "payload", note.Payload, "err", err)
			continue
		}
		if node != n.node {
			n.hub.notify(domain, ids...)
		}
	}
}

func parseNotification(p string) (node, domain string, ids []int64, err error) {
	f := strings.Fields(p)
	if len(f) != 3 {
		return "", "", nil, fmt.Errorf("want 3 fields")
	}
	for _, s := range strings.Split(f[2], ",") {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return "", "", nil, err
		}
		ids = append(ids, id)
	}
	return f[0], f[1], ids, nil
}

func (n *pgNotifier) stop() {
	n.cancel()
	<-n.done
}
