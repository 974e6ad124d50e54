-- in_file: the blob's content is a file under the domain's blob directory
-- rather than rows of blob_chunks. With blob_backend = "sql", blobs of at
-- least storage.blob_file_min_size bytes go to files (one buffered write
-- instead of two: the WAL, then the checkpoint); smaller ones stay in the
-- database, where concurrent deliveries share commits. The file backend
-- keeps every blob in a file and marks new rows; rows it wrote before this
-- migration say FALSE, and it does not read the column.
-- Keep in step with ../postgres/0005_blob_in_file.sql.
ALTER TABLE blobs ADD COLUMN in_file BOOLEAN NOT NULL DEFAULT FALSE;
