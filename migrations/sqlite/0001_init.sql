-- Letterbox schema, SQLite dialect. One database file per domain.
-- Keep in step with ../postgres/0001_init.sql: only identity columns and
-- type names differ.

CREATE TABLE domains (
    name TEXT PRIMARY KEY
);

CREATE TABLE accounts (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    domain      TEXT    NOT NULL REFERENCES domains(name) ON DELETE CASCADE,
    password    TEXT    NOT NULL,
    quota_bytes BIGINT  NOT NULL DEFAULT 0,
    used_bytes  BIGINT  NOT NULL DEFAULT 0,
    modseq      BIGINT  NOT NULL DEFAULT 1,
    uidvalidity BIGINT  NOT NULL DEFAULT 0,
    created     BIGINT  NOT NULL
);

CREATE TABLE mailboxes (
    id             INTEGER PRIMARY KEY,
    account_id     BIGINT  NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name           TEXT    NOT NULL,
    uidvalidity    BIGINT  NOT NULL,
    uidnext        BIGINT  NOT NULL DEFAULT 1,
    highest_modseq BIGINT  NOT NULL,
    special_use    TEXT    NOT NULL DEFAULT '',
    messages       BIGINT  NOT NULL DEFAULT 0,
    unseen         BIGINT  NOT NULL DEFAULT 0,
    deleted        BIGINT  NOT NULL DEFAULT 0,
    size           BIGINT  NOT NULL DEFAULT 0,
    vanished_floor BIGINT  NOT NULL DEFAULT 0,
    UNIQUE (account_id, name)
);

CREATE TABLE subscriptions (
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name       TEXT   NOT NULL,
    PRIMARY KEY (account_id, name)
);

-- One row per distinct message content. The parsed form lives here, once.
CREATE TABLE blobs (
    hash        BLOB    PRIMARY KEY,
    size        BIGINT  NOT NULL,
    refs        BIGINT  NOT NULL,
    unref_since BIGINT,
    compression INTEGER NOT NULL DEFAULT 0,
    header      BLOB    NOT NULL,
    parsed      BLOB    NOT NULL
);
CREATE INDEX blobs_unreferenced ON blobs(unref_since) WHERE refs = 0;

-- Content of blobs kept inside the database, in fixed-size chunks so that
-- neither writing nor a ranged read holds a large message in memory.
CREATE TABLE blob_chunks (
    hash BLOB    NOT NULL,
    seq  INTEGER NOT NULL,
    data BLOB    NOT NULL,
    PRIMARY KEY (hash, seq)
);

CREATE TABLE messages (
    mailbox_id    BIGINT  NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    uid           BIGINT  NOT NULL,
    account_id    BIGINT  NOT NULL,
    modseq        BIGINT  NOT NULL,
    internal_date BIGINT  NOT NULL,
    internal_tz   INTEGER NOT NULL,
    save_date     BIGINT  NOT NULL,
    size          BIGINT  NOT NULL,
    blob          BLOB    NOT NULL REFERENCES blobs(hash),
    seen          BOOLEAN NOT NULL DEFAULT FALSE,
    answered      BOOLEAN NOT NULL DEFAULT FALSE,
    flagged       BOOLEAN NOT NULL DEFAULT FALSE,
    deleted       BOOLEAN NOT NULL DEFAULT FALSE,
    draft         BOOLEAN NOT NULL DEFAULT FALSE,
    uidl          TEXT,
    PRIMARY KEY (mailbox_id, uid)
);
CREATE INDEX messages_modseq ON messages(mailbox_id, modseq);

CREATE TABLE keywords (
    mailbox_id BIGINT NOT NULL,
    uid        BIGINT NOT NULL,
    keyword    TEXT   NOT NULL,
    PRIMARY KEY (mailbox_id, uid, keyword),
    FOREIGN KEY (mailbox_id, uid) REFERENCES messages(mailbox_id, uid) ON DELETE CASCADE
);

-- Expunge tombstones for QRESYNC; never a flag on the live row.
CREATE TABLE vanished (
    mailbox_id BIGINT NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    uid        BIGINT NOT NULL,
    modseq     BIGINT NOT NULL,
    expunged   BIGINT NOT NULL,
    PRIMARY KEY (mailbox_id, uid)
);
CREATE INDEX vanished_modseq ON vanished(mailbox_id, modseq);

CREATE TABLE sieve_scripts (
    id         INTEGER PRIMARY KEY,
    account_id BIGINT  NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    content    TEXT    NOT NULL,
    active     BOOLEAN NOT NULL DEFAULT FALSE,
    updated    BIGINT  NOT NULL,
    UNIQUE (account_id, name)
);
CREATE UNIQUE INDEX sieve_one_active ON sieve_scripts(account_id) WHERE active;
