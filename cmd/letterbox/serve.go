package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"letterbox/config"
	"letterbox/storage"
)

// sweepEvery is how often serve removes unreferenced blobs and old
// expunge tombstones.
const sweepEvery = 10 * time.Minute

func runServe(ctx context.Context, args []string) error {
	fs, cfgPath := flagSet("serve", "", "Runs the server until SIGINT or SIGTERM. Without -config: SQLite in ./letterbox-data\n"+
		"(or $LETTERBOX_DATA), loopback listeners.")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("serve takes no arguments")
	}
	c, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	log := newLogger(c)
	s, err := storage.Open(ctx, storeOptions(c, log))
	if err != nil {
		return err
	}
	log.Info("storage open", "backend", c.Storage.Backend, "data_dir", c.DataDir, "blobs", c.Storage.BlobBackend, "schema", storage.SchemaVersion())

	// Protocol listeners register here as they are built (IMAP, POP3, LMTP,
	// ManageSieve); each is started from the config and stopped on signal.
	for _, l := range []struct{ name, addr string }{
		{"imap", c.IMAP.Listen}, {"imaps", c.IMAP.ListenTLS}, {"pop3", c.POP3.Listen}, {"pop3s", c.POP3.ListenTLS},
		{"lmtp", c.LMTP.Listen}, {"lmtp-socket", c.LMTP.Socket}, {"managesieve", c.ManageSieve.Listen},
	} {
		if l.addr != "" {
			log.Warn("listener configured but its protocol server is not in this build yet", "protocol", l.name, "addr", l.addr)
		}
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		sweeper(ctx, s, log)
	}()
	log.Info("letterbox running; stop with SIGINT or SIGTERM", "version", version)
	<-ctx.Done()
	log.Info("stopping: finishing writes in flight")
	<-done
	if err := s.Close(); err != nil {
		return fmt.Errorf("close storage: %w", err)
	}
	log.Info("stopped")
	return nil
}

// sweeper runs Sweep now and then until ctx ends.
func sweeper(ctx context.Context, s *storage.Store, log *slog.Logger) {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st, err := s.Sweep(ctx)
		if err != nil && ctx.Err() == nil {
			log.Error("sweep", "err", err)
			continue
		}
		if st.Blobs+st.Orphans+st.Vanished > 0 {
			log.Info("sweep", "blobs", st.Blobs, "orphans", st.Orphans, "vanished", st.Vanished)
		}
	}
}

func newLogger(c *config.Config) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(c.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
