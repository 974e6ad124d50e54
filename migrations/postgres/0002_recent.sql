-- \Recent (IMAP4rev1): messages with UID >= first_recent have not yet been
-- seen by any session that selected the mailbox read-write.
ALTER TABLE mailboxes ADD COLUMN first_recent BIGINT NOT NULL DEFAULT 1;
