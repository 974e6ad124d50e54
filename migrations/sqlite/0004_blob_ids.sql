-- Blobs get an integer id, and the content kept in the database is keyed
-- by it: the chunks of a new blob then go at the end of blob_chunks and of
-- its primary key, instead of into a random page of an index on the
-- 32-byte hash (one page more to write per message). Messages still name
-- their blob by hash, which readers need (it is the key of IMAP's render
-- cache), so only these two tables are rebuilt; this copies the content
-- once, in one transaction: it needs free disk space of about twice the
-- content kept in the database (the WAL holds the copy until it is
-- checkpointed), and the file keeps the pages the old tables freed for new
-- mail (VACUUM gives them back). storage/migrate.go runs SQLite migrations
-- with foreign keys off, as SQLite's rebuild procedure asks, and checks
-- them before committing.
-- Keep in step with ../postgres/0004_blob_ids.sql: there hash stays the
-- primary key and id is a unique identity column.
CREATE TABLE blobs_new (
    id          INTEGER PRIMARY KEY,
    hash        BLOB    NOT NULL UNIQUE,
    size        BIGINT  NOT NULL,
    refs        BIGINT  NOT NULL,
    unref_since BIGINT,
    compression INTEGER NOT NULL DEFAULT 0,
    header      BLOB    NOT NULL,
    parsed      BLOB    NOT NULL
);
INSERT INTO blobs_new (id, hash, size, refs, unref_since, compression, header, parsed)
    SELECT rowid, hash, size, refs, unref_since, compression, header, parsed FROM blobs ORDER BY rowid;

CREATE TABLE blob_chunks_new (
    blob_id BIGINT  NOT NULL,
    seq     INTEGER NOT NULL,
    data    BLOB    NOT NULL,
    PRIMARY KEY (blob_id, seq)
);
INSERT INTO blob_chunks_new (blob_id, seq, data)
    SELECT b.id, c.seq, c.data FROM blob_chunks c JOIN blobs_new b ON b.hash = c.hash ORDER BY b.id, c.seq;

DROP TABLE blob_chunks;
DROP TABLE blobs;
ALTER TABLE blobs_new RENAME TO blobs;
ALTER TABLE blob_chunks_new RENAME TO blob_chunks;
CREATE INDEX blobs_unreferenced ON blobs(unref_since) WHERE refs = 0;
