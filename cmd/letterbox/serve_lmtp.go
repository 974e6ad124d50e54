package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"

	"letterbox/config"
	"letterbox/lmtp"
)

func init() { protocols = append(protocols, protocol{name: "lmtp", start: startLMTP}) }

// lmtpOptions are the LMTP settings of the config, for the server and for
// `letterbox deliver`, Sieve included.
func lmtpOptions(c *config.Config, log *slog.Logger) (lmtp.Options, error) {
	so, err := lmtpSieve(c)
	if err != nil {
		return lmtp.Options{}, err
	}
	return lmtp.Options{
		Sieve:                   so,
		Hostname:                c.LMTP.Hostname,
		RecipientDelimiter:      c.LMTP.RecipientDelimiter,
		CaseSensitiveLocalParts: c.LMTP.CaseSensitiveLocalParts,
		QuotaFullTempfail:       c.LMTP.QuotaFullTempfail,
		MaxMessageSize:          c.Limits.MaxMessageSize,
		MaxConnectionsPerIP:     c.Limits.MaxConnectionsPerIP,
		Logger:                  log,
	}, nil
}

// startLMTP listens on lmtp.listen and lmtp.socket, whichever are set.
func startLMTP(ctx context.Context, env *serverEnv) (func(context.Context) error, error) {
	c := env.cfg.LMTP
	if c.Listen == "" && c.Socket == "" {
		return nil, nil
	}
	var ls []net.Listener
	closeAll := func() {
		for _, l := range ls {
			l.Close()
		}
	}
	if c.Listen != "" {
		l, err := net.Listen("tcp", c.Listen)
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
	}
	if c.Socket != "" {
		l, err := listenUnix(c.Socket)
		if err != nil {
			closeAll()
			return nil, err
		}
		ls = append(ls, l)
	}
	opts, err := lmtpOptions(env.cfg, env.log)
	if err != nil {
		return nil, err
	}
	srv := lmtp.NewServer(env.store, opts)
	for _, l := range ls {
		env.log.Info("listening", "proto", "lmtp", "addr", l.Addr().String())
		go func() {
			if err := srv.Serve(l); err != nil {
				env.log.Error("lmtp stopped accepting", "addr", l.Addr().String(), "err", err)
			}
		}()
	}
	return srv.Shutdown, nil
}

// listenUnix listens on a unix socket, replacing a stale socket file left
// by a crash. The socket is mode 0666, as Dovecot's: the MTA runs as
// another user, and the directory's permissions decide who may reach it.
func listenUnix(path string) (net.Listener, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode().Type() != fs.ModeSocket {
			return nil, fmt.Errorf("lmtp socket %s: exists and is not a socket", path)
		}
		if c, err := net.Dial("unix", path); err == nil {
			c.Close()
			return nil, fmt.Errorf("lmtp socket %s: another server is listening on it", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("lmtp socket: remove stale %s: %w", path, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("lmtp socket: %w", err)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o666); err != nil {
		l.Close()
		return nil, fmt.Errorf("lmtp socket: %w", err)
	}
	return l, nil
}
