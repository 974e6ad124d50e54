// Package pop3 is Letterbox's POP3 server: RFC 1939 (USER/PASS, APOP, STAT,
// LIST, RETR, TOP, DELE, NOOP, RSET, UIDL, QUIT), RFC 2449 (CAPA and
// response codes), RFC 2595 (STLS), RFC 3206 (SYS and AUTH codes) and
// RFC 5034 (AUTH with SASL PLAIN and LOGIN). POP3 is a view of INBOX.
//
// Rules a newcomer could break:
//
//   - One goroutine per connection reads a command, runs it and answers it
//     before reading the next. Pipelined commands (RFC 2449 PIPELINING) wait
//     in the reader; replies go through a buffered writer that is flushed
//     after each reply unless the next complete command is already waiting.
//   - The maildrop is a snapshot of INBOX taken at login: message numbers,
//     sizes and UIDLs never change during a session. Mail delivered during
//     the session appears at the next login; a message expunged by IMAP
//     during the session fails RETR/TOP with -ERR, and nothing else.
//   - DELE only marks. Storage changes only in the UPDATE state, after a
//     QUIT in the TRANSACTION state (RFC 1939 section 6): retrieved messages
//     get \Seen, deleted ones get \Deleted and are expunged, an expunge that
//     IMAP sessions see like any other. A session that ends any other way
//     (dropped connection, timeout, shutdown) changes nothing.
//   - Sizes are the stored size, which is the message in CRLF form before
//     dot-stuffing (RFC 1939 section 11); RETR sends exactly those bytes,
//     dot-stuffed. Message content is streamed from storage, never held in
//     memory whole.
//   - The maildrop lock (a second POP3 login to the same account gets
//     -ERR [IN-USE], RFC 2449 section 8.1.2) is a map inside one Server,
//     that is, per process. Several Letterbox processes on one PostgreSQL
//     database do not see each other's POP3 locks; IMAP is never locked out.
//   - Passwords are never logged. Cleartext logins (USER/PASS, APOP, AUTH
//     PLAIN/LOGIN) are refused on a connection without TLS unless
//     CleartextAllowed says otherwise, and CAPA then does not offer them
//     (RFC 5034 section 4). Failed logins go through the auth.Throttle
//     shared with IMAP: the reply waits, and a refused key is refused.
//   - Client input never panics the server and never ends the session on
//     its own: a bad line gets -ERR with a reason; too many -ERR replies in
//     a row (maxErrors) end the session.
package pop3
