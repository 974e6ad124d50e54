package main

import (
	"context"
	"fmt"
	"net"

	"letterbox/imap"
)

func init() {
	protocols = append(protocols, protocol{name: "imap", start: startIMAP})
}

// startIMAP listens on imap.listen (cleartext with STARTTLS when TLS is
// configured) and imap.listen_tls (implicit TLS).
func startIMAP(ctx context.Context, env *serverEnv) (func(context.Context) error, error) {
	c := env.cfg
	if c.IMAP.Listen == "" && c.IMAP.ListenTLS == "" {
		return nil, nil
	}
	srv := &imap.Server{
		Store:            env.store,
		Auth:             env.auth,
		Throttle:         env.throttle,
		TLS:              env.tlsConfig(),
		CleartextAllowed: env.cleartextAllowed,
		MaxMessageSize:   c.Limits.MaxMessageSize,
		MaxConnsPerIP:    c.Limits.MaxConnectionsPerIP,
		MaxConnsPerUser:  c.Limits.MaxConnectionsPerUser,
		Log:              env.log.With("proto", "imap"),
	}
	for _, l := range []struct {
		addr string
		tls  bool
	}{{c.IMAP.Listen, false}, {c.IMAP.ListenTLS, true}} {
		if l.addr == "" {
			continue
		}
		if l.tls && srv.TLS == nil {
			return nil, fmt.Errorf("imap.listen_tls needs [tls] cert_file and key_file")
		}
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			srv.Shutdown(ctx)
			return nil, err
		}
		env.log.Info("listening", "proto", "imap", "addr", ln.Addr().String(), "tls", l.tls)
		go func() {
			if err := srv.Serve(ln, l.tls); err != nil {
				env.log.Error("imap listener", "addr", l.addr, "err", err)
			}
		}()
	}
	return srv.Shutdown, nil
}
