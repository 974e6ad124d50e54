// Package config reads Letterbox's one configuration file (TOML) and gives
// every key a working default. The reference for users is docs/config.md.
//
// Rules a newcomer could break:
//
//   - There are two sets of defaults. Default (no config file at all) runs a
//     trial server: SQLite under ./letterbox-data and loopback listeners on
//     unprivileged ports. Load (a config file, even an empty one) starts from
//     the standard ports (143/993, 110/995, 24 or a unix socket, 4190). A new
//     key needs a default in both, and a row in docs/config.md; the tests in
//     docs_test.go fail until it has one.
//   - A few defaults depend on other keys when a file is loaded:
//     imap.listen_tls and pop3.listen_tls are on only when TLS is configured,
//     lmtp.listen is off when lmtp.socket is set, and storage.blob_backend
//     follows storage.backend. They apply only when the file does not set
//     the key itself (see fileDefaultsAfter).
//   - LETTERBOX_DATA overrides data_dir, over the file too.
//   - Keys are case-sensitive and unknown keys are refused. Decoding is ours
//     (decode.go), not toml.Decode into the struct: that would match keys
//     case-insensitively ("Backend" silently sets "backend") and stop at the
//     first wrong type, where we want every problem reported at once.
//   - Problems are *KeyError values naming the dotted key, joined with
//     errors.Join and sorted by key. Never put storage.postgres_url in an
//     error message or in WriteTOML output unredacted: it may hold a
//     password.
package config
