// Package message parses an Internet message (RFC 5322, MIME) once, at insert,
// into everything the IMAP server needs without reading the message again:
// the MIME tree with the byte offsets of every part, the ENVELOPE, what BODY
// and BODYSTRUCTURE render, the header fields SORT and THREAD compare, and
// the RFC 8970 preview. Storage keeps the result with Marshal; FETCH renders
// it with AppendEnvelope and AppendBodyStructure, and reads a section such as
// BODY[1.2] as a ranged read of the stored message at the offsets of Part.
//
// Rules a change must keep:
//
//   - Offsets, sizes and line counts are into the bytes Parse read. Callers
//     normalise messages to CRLF line endings before they store and parse
//     them, so offsets are into the CRLF form, which is also what IMAP
//     reports (RFC 9051 section 2.3.4: RFC822.SIZE counts CRLF form). Bare
//     LF is still handled (as a line ending) so that nothing breaks on it.
//   - Parse never fails on ugly input. Broken MIME, 8-bit or NUL bytes in
//     headers, missing or never-closed boundaries, a header with no blank
//     line after it: all give a best-effort structure. The only error is a
//     read error from the reader.
//   - Memory is bounded whatever the size of the message: Parse streams, and
//     keeps only each header block (up to maxHeaderBytes), a bounded amount
//     of the text used for the preview, and the part tree (at most maxParts
//     parts, nested at most maxDepth deep; deeper or further parts are body
//     text of the part that holds them).
//   - Where IMAP leaves a choice, the rendering matches Dovecot 2.3 (the
//     server users migrate from), checked by a golden test against its
//     answers; every remaining difference is listed in
//     testdata/message/EXPECTED.md.
//   - Marshal's encoding is versioned (first byte); Unmarshal refuses a
//     version it does not know, so storage can re-parse such rows.
package message
