// Package imap is Letterbox's IMAP4rev2 server (RFC 9051), which also speaks
// IMAP4rev1 (RFC 3501) to clients that do not ENABLE IMAP4rev2.
//
// Rules a newcomer could break:
//
//   - One command at a time per connection, read and answered in order;
//     pipelined commands simply wait in the reader. Responses go through a
//     buffered writer flushed once per command (and before a continuation
//     request).
//   - Only the connection's own goroutine writes to the socket. IDLE reads
//     the DONE line in a helper goroutine and does the writing itself.
//   - Never write to the socket while holding a lock or a transaction:
//     storage calls return first, then we answer.
//   - Storage is the truth. The selected mailbox view (sequence numbers,
//     last MODSEQ seen) is this session's; other sessions' changes reach it
//     through Changes at the points RFC 9051 section 7.5.1 allows: EXPUNGE is
//     never sent during FETCH, STORE or SEARCH by sequence number, and
//     sequence numbers stay valid for the whole command.
//   - The selected mailbox may be deleted or renamed by another session at
//     any time: every storage call can fail with ErrNotFound.
//   - Literals are streamed: an APPEND of 50 MB is never held in memory.
//     Every other literal is bounded by maxLiteral.
//   - Client input never panics the server: bad syntax is a tagged BAD and
//     the session goes on; an unknown command before login ends it
//     (cross-protocol safety).
package imap
