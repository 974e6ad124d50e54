package main

import (
	"context"
	"net"
	"slices"

	"letterbox/managesieve"
	"letterbox/sieve"
)

func init() {
	protocols = append(protocols, protocol{name: "managesieve", start: startManageSieve})
}

// startManageSieve listens on managesieve.listen, with STARTTLS when TLS is
// configured. Scripts are checked by the real Sieve compiler with the
// options delivery uses, and the SIEVE capability is its extension list.
func startManageSieve(ctx context.Context, env *serverEnv) (func(context.Context) error, error) {
	c := env.cfg
	if c.ManageSieve.Listen == "" {
		return nil, nil
	}
	opts := uploadOptions(c)
	exts := sieve.Extensions(opts)
	var notify []string
	if slices.Contains(exts, "enotify") {
		notify = []string{"mailto"} // the one method RFC 5435 requires
	}
	srv := &managesieve.Server{
		Store:            env.store,
		Auth:             env.auth,
		Throttle:         env.throttle,
		TLS:              env.tlsConfig(),
		CleartextAllowed: env.cleartextAllowed,
		Compile: func(name string, src []byte) (string, error) {
			_, err := sieve.Compile(name, src, opts)
			return "", err
		},
		Extensions:    exts,
		NotifyMethods: notify,
		MaxRedirects:  c.Sieve.MaxRedirects,
		MaxScripts:    c.ManageSieve.MaxScripts,
		// The compiler refuses what sieve.max_script_size does not allow:
		// HAVESPACE and QUOTA/MAXSIZE answer with the smaller limit.
		MaxScriptSize: min(c.ManageSieve.MaxScriptSize, c.Sieve.MaxScriptSize),
		MaxLine:       c.Limits.MaxLine,
		MaxConnsPerIP: c.Limits.MaxConnectionsPerIP,
		Log:           env.log,
	}
	ln, err := net.Listen("tcp", c.ManageSieve.Listen)
	if err != nil {
		return nil, err
	}
	env.log.Info("listening", "proto", "managesieve", "addr", ln.Addr().String(), "tls", false)
	go func() {
		if err := srv.Serve(ln); err != nil {
			env.log.Error("managesieve listener", "addr", c.ManageSieve.Listen, "err", err)
		}
	}()
	return srv.Shutdown, nil
}
