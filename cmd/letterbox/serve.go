package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"letterbox/auth"
	"letterbox/internal/tlsconf"

	"letterbox/config"
	"letterbox/storage"
)

// sweepEvery is how often serve removes unreferenced blobs and old
// expunge tombstones.
const sweepEvery = 10 * time.Minute

func runServe(ctx context.Context, args []string) error {
	fs, cfgPath := flagSet("serve", "", "Runs the server until SIGINT or SIGTERM. Without -config: SQLite in ./letterbox-data\n"+
		"(or $LETTERBOX_DATA), loopback listeners.")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile (pprof) of the whole run to `FILE`, for tuning and\n"+
		"for default.pgo (profile-guided optimization, see Makefile's pgo target)")
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
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	s, err := storage.Open(ctx, storeOptions(c, log))
	if err != nil {
		return err
	}
	log.Info("storage open", "backend", c.Storage.Backend, "data_dir", c.DataDir, "blobs", c.Storage.BlobBackend, "schema", storage.SchemaVersion())

	env, err := newServerEnv(c, s, log)
	if err != nil {
		s.Close()
		return err
	}
	var running []runningServer
	stopAll := func() {
		// Stop accepting, end sessions, then close storage: writes in flight
		// finish first (storage.Close drains the writers).
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for i := len(running) - 1; i >= 0; i-- {
			if err := running[i].stop(sctx); err != nil {
				log.Warn("stop", "protocol", running[i].name, "err", err)
			}
		}
	}
	for _, p := range protocols {
		stop, err := p.start(ctx, env)
		if err != nil {
			stopAll()
			s.Close()
			return fmt.Errorf("start %s: %w", p.name, err)
		}
		if stop != nil {
			running = append(running, runningServer{p.name, stop})
		}
	}
	if len(running) == 0 {
		log.Warn("no protocol servers are in this build yet: only storage maintenance runs")
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			if env.certs == nil {
				continue
			}
			if err := env.certs.Reload(); err != nil {
				log.Error("SIGHUP: TLS certificate not reloaded", "err", err)
			} else {
				log.Info("SIGHUP: TLS certificate reloaded")
			}
		}
	}()

	done := make(chan struct{})
	go func() {
		defer close(done)
		sweeper(ctx, s, log)
	}()
	log.Info("letterbox running; stop with SIGINT or SIGTERM", "version", version)
	<-ctx.Done()
	log.Info("stopping: finishing writes in flight")
	stopAll()
	<-done
	if err := s.Close(); err != nil {
		return fmt.Errorf("close storage: %w", err)
	}
	log.Info("stopped")
	return nil
}

// startCPUProfile profiles the process into file until stop is called.
func startCPUProfile(file string) (stop func(), err error) {
	f, err := os.Create(file)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
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

// protocol is a server that serve starts from the config. Each protocol
// registers itself from its own serve_*.go file with an init function;
// start returns nil stop when its listeners are all disabled.
type protocol struct {
	name  string
	start func(ctx context.Context, env *serverEnv) (stop func(context.Context) error, err error)
}

var protocols []protocol

type runningServer struct {
	name string
	stop func(context.Context) error
}

// serverEnv is what every protocol server gets: config, storage, login
// checking (with the shared verification cache and throttle), TLS.
type serverEnv struct {
	cfg      *config.Config
	store    *storage.Store
	auth     *auth.Authenticator
	throttle *auth.Throttle
	certs    *tlsconf.Certs // nil without [tls]
	log      *slog.Logger
}

func newServerEnv(c *config.Config, s *storage.Store, log *slog.Logger) (*serverEnv, error) {
	env := &serverEnv{cfg: c, store: s, log: log, throttle: auth.NewThrottle()}
	var cache *auth.Cache
	if c.Auth.CacheTTL > 0 && c.Auth.CacheSize > 0 {
		cache = auth.NewCache(c.Auth.CacheTTL.Std(), c.Auth.CacheSize)
	}
	env.auth = &auth.Authenticator{Store: s, Verifier: auth.Verifier{Cache: cache}}
	if c.TLS.CertFile != "" {
		certs, err := tlsconf.Load(c.TLS.CertFile, c.TLS.KeyFile)
		if err != nil {
			return nil, err
		}
		env.certs = certs
	}
	return env, nil
}

// tlsConfig is the server TLS configuration, nil without certificates.
func (e *serverEnv) tlsConfig() *tls.Config {
	if e.certs == nil {
		return nil
	}
	return e.certs.Config()
}

// cleartextAllowed says whether a plaintext login may happen on a
// connection from remote (auth.allow_cleartext).
func (e *serverEnv) cleartextAllowed(remote net.Addr) bool {
	switch e.cfg.Auth.AllowCleartext {
	case "always":
		return true
	case "never":
		return false
	}
	if tcp, ok := remote.(*net.TCPAddr); ok {
		return tcp.IP.IsLoopback()
	}
	_, unix := remote.(*net.UnixAddr)
	return unix
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
