-- in_file: the blob's content is a file under the blob directory rather
-- than rows of blob_chunks (see ../sqlite/0005_blob_in_file.sql, which this
-- keeps in step with).
ALTER TABLE blobs ADD COLUMN in_file BOOLEAN NOT NULL DEFAULT FALSE;
