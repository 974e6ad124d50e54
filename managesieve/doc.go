// Package managesieve is Letterbox's ManageSieve server (RFC 5804): users
// upload, check, list, activate, download, rename and delete their Sieve
// scripts. Scripts live in storage (at most one active per account); the
// Sieve compiler is injected (Server.Compile, Server.Extensions), so this
// package does not depend on package sieve.
//
// Rules a newcomer could break:
//
//   - One goroutine per connection reads a whole command, literals
//     included, runs it and answers it. Client literals are "{N+}" and the
//     server never answers them: ManageSieve has no continuation request.
//     "{N}" is read the same way (see parser.readArgs).
//   - Every command is bounded: before login by the line limit, after it
//     by the line limit plus the script size limit. A literal past that is
//     read and dropped (a script too big gets NO (QUOTA/MAXSIZE) and the
//     session goes on), unless it is huge, or sent before login: then BYE.
//   - A command that does not parse is read to its end, literals
//     included, before NO: the octets of a literal must never be taken as
//     commands. Too many NO replies in a row end the session, sooner
//     before login than after.
//   - A script is stored only if Compile accepts it; SETACTIVE compiles the
//     stored script again, since the compiler may have changed. The
//     compiler's message, with line and column, goes to the client.
//   - Quotas: MaxScripts is checked inside the storage write
//     (PutSieveScriptMax), so concurrent sessions cannot pass it; the size
//     limit is checked before compiling.
//   - Passwords are never logged. PLAIN and LOGIN are refused on a
//     connection without TLS unless CleartextAllowed says otherwise, and
//     the SASL capability is then empty. Failed logins go through the
//     auth.Throttle shared with IMAP and POP3.
package managesieve
