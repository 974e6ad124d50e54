// Package lmtp is how mail enters Letterbox: an LMTP server (RFC 2033, on
// github.com/emersion/go-smtp in LMTP mode) and the delivery pipeline
// behind it, which `letterbox deliver` shares.
//
// One message goes: RCPT TO checks the recipient at once (account, domain,
// quota); DATA or BDAT streams the message, with the trace headers in
// front, through storage.Receive (read once, hashed, parsed, spooled to
// disk when large); decide says where each recipient's copy goes;
// storage.Deliver stores the content once for all of them and commits; one
// reply per recipient follows.
//
// Rules a newcomer could break:
//
//   - Never 250 before the commit. A recipient's reply comes from the
//     result of storage.Deliver, which returns only once its row is
//     committed durably. Anything that is not known to be permanent is a
//     temporary failure (4xx): the MTA keeps the message and tries again.
//   - One reply per accepted RCPT, in the order of the RCPTs, even when two
//     give the same address (RFC 2033 section 4.2). go-smtp's
//     StatusCollector takes exactly one status per RCPT.
//   - Stream, never buffer: the message goes from the socket to storage's
//     spool through an io.Reader. Nothing here holds a whole message.
//   - Every byte after the trace headers stays as the MTA sent it, but for
//     bare LF, which becomes CRLF (crlf.go): IMAP serves CRLF, and
//     RFC822.SIZE must count what it serves. Storage keeps what it is
//     given.
//   - The content is shared by every recipient of a transaction, so the
//     trace headers are per transaction, not per recipient: Delivered-To
//     and the Received "for" clause appear only when the transaction has a
//     single recipient address (as Dovecot does; RFC 5321 section 7.2 warns
//     that "for" with several recipients discloses Bcc recipients).
//   - Where a recipient's copy goes is decided in one place,
//     Deliverer.decide. Sieve plugs in there; nothing else may pick a
//     mailbox.
//   - Errors become replies in one place (reply.go); handlers return
//     errors and never write replies themselves.
//   - Shutdown stops accepting, refuses new transactions with 421, lets
//     those in flight finish and answer, and only then closes connections:
//     a connection cut between the commit and the 250 makes the MTA
//     deliver the message twice.
package lmtp
