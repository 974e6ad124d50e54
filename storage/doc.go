// Package storage is the single source of truth of Letterbox: accounts,
// mailboxes, messages, flags, MODSEQs, blobs, POP3 UIDLs and Sieve scripts.
// Protocol engines speak to it in those terms and never see SQL.
//
// Rules a newcomer could break:
//
//   - Every per-user call takes the *Account it acts for and every query it
//     runs is confined to that account's id (and, for SQLite, to the
//     account's domain file). Ids from another account are "not found".
//   - Every write transaction bumps the account's MODSEQ counter before it
//     touches anything else. That gives each change its MODSEQ and, on
//     PostgreSQL, takes the account row lock first, so writers of one account
//     are serialised and never deadlock (lock order: account, then mailbox,
//     then messages).
//   - Mailbox counters (messages, unseen, deleted, size) and the account's
//     used bytes change in the same transaction as the rows they count;
//     Recount rebuilds them from the rows.
//   - UIDs come from the mailbox's UIDNEXT and are never reused; UIDVALIDITY
//     comes from an account counter, never the clock or a random number.
//   - Expunged UIDs go to the vanished table with their MODSEQ.
//   - A blob is written and synced (file backend), or written in the same
//     transaction (SQL backend), before the row that references it commits.
//     Blobs whose reference count fell to zero are removed by Sweep only after
//     a grace period. Messages name their blob by its SHA-256 (readers need
//     the hash); a blob's content in the SQL backend is keyed by the blob's
//     integer id, so that a new blob's chunks are appended, not inserted at
//     random places of an index on the hash.
//   - Commit first, then wake: change events are sent after the commit, and
//     are only wake-ups; watchers ask Changes what happened.
//   - SQLite: one writer goroutine per database file runs queued writes in
//     groups, one transaction and one fsync per group (group commit):
//     deliveries queued together as one batch (one UPDATE per account and
//     mailbox, rows inserted one by one with prepared statements; the hot
//     paths avoid RETURNING and multi-row statements, which SQLite runs in
//     a statement journal), other writes one after the other; when
//     any write of a group fails, the group runs again with one savepoint
//     per write, so only that write fails. WAL checkpoints run beside the
//     writer on a connection of their own. Write functions may be run more than
//     once (on SQLITE_BUSY or a PostgreSQL serialisation failure), so they
//     keep their results in variables they reset, and act on the world only
//     after the write returned.
package storage
