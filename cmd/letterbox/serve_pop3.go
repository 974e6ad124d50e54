package main

import (
	"context"
	"fmt"
	"net"

	"letterbox/pop3"
)

func init() {
	protocols = append(protocols, protocol{name: "pop3", start: startPOP3})
}

// startPOP3 listens on pop3.listen (cleartext, with STLS when TLS is
// configured) and pop3.listen_tls (implicit TLS, port 995). One pop3.Server
// serves both, so its maildrop locks cover both listeners.
func startPOP3(ctx context.Context, env *serverEnv) (func(context.Context) error, error) {
	c := env.cfg
	if c.POP3.Listen == "" && c.POP3.ListenTLS == "" {
		return nil, nil
	}
	srv := &pop3.Server{
		Store:            env.store,
		Auth:             env.auth,
		Throttle:         env.throttle,
		TLS:              env.tlsConfig(),
		CleartextAllowed: env.cleartextAllowed,
		MaxLine:          c.Limits.MaxLine,
		MaxConnsPerIP:    c.Limits.MaxConnectionsPerIP,
		Log:              env.log,
	}
	for _, l := range []struct {
		addr string
		tls  bool
	}{{c.POP3.Listen, false}, {c.POP3.ListenTLS, true}} {
		if l.addr == "" {
			continue
		}
		if l.tls && srv.TLS == nil {
			srv.Shutdown(ctx)
			return nil, fmt.Errorf("pop3.listen_tls needs [tls] cert_file and key_file")
		}
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			srv.Shutdown(ctx)
			return nil, err
		}
		env.log.Info("listening", "proto", "pop3", "addr", ln.Addr().String(), "tls", l.tls)
		go func() {
			if err := srv.Serve(ln, l.tls); err != nil {
				env.log.Error("pop3 listener", "addr", l.addr, "err", err)
			}
		}()
	}
	return srv.Shutdown, nil
}
