-- Sieve tracking: what an account's scripts have already seen or answered,
-- until an expiry time: the duplicate extension's ids (RFC 7352) and the
-- vacation extension's replies per sender (RFC 5230 :days, RFC 6131
-- :seconds). The key is stored as its SHA-256 (see storage/sievetrack.go).
-- expires_ms is a Unix time in milliseconds; Sweep deletes expired rows.
-- Keep in step with ../sqlite/0003_sieve_tracking.sql: only type names
-- and WITHOUT ROWID differ.
CREATE TABLE sieve_tracking (
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind       TEXT   NOT NULL,
    key_hash   BYTEA  NOT NULL,
    expires_ms BIGINT NOT NULL,
    PRIMARY KEY (account_id, kind, key_hash)
);
CREATE INDEX sieve_tracking_expires ON sieve_tracking(expires_ms);
