package storage

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Values of blobs.compression.
const (
	compressNone = 0
	compressZstd = 1
)

// chunkSize is the unit of the SQL blob backend: rows this big are written
// and read one at a time, so neither an insert nor a ranged read holds a
// whole large message.
const chunkSize = 256 << 10

// blobBackend keeps message content. The blobs row (id, hash, size,
// references, parsed form, where the content is) is common to both
// backends; the backend keeps the bytes: the SQL backend under the row's
// id, or in a file named by the hash for a blob of at least its file
// threshold; the file backend always in a file.
type blobBackend interface {
	// inFile says whether a new blob of size bytes is kept in a file.
	inFile(size int64) bool
	// stage runs before the write transaction: a blob kept in a file is
	// written and synced there, so that it is durable before any row names
	// it.
	stage(t *tenant, p *Incoming) error
	// storeTx runs inside the transaction that created the blobs row.
	storeTx(tx *txn, t *tenant, p *Incoming, loc blobLoc) error
	// ensureTx runs inside the transaction that revived a blobs row from
	// zero references, and stores the content if it is not there.
	ensureTx(tx *txn, t *tenant, p *Incoming, loc blobLoc) error
	// open gives ranged access to a blob's content.
	open(ctx context.Context, t *tenant, loc blobLoc) (blobReader, error)
	// removeTx deletes a blob's content; the sweeper calls it inside the
	// transaction that deletes the row, before the commit.
	removeTx(tx *txn, t *tenant, loc blobLoc) error
	compression() int
	// inFileRows is the SQL condition on blobs rows whose content is a
	// file under the blob directory.
	inFileRows() string
}

// blobLoc is what a blobs row says about where and how its content is kept.
type blobLoc struct {
	id          int64
	hash        []byte
	size        int64
	compression int
	inFile      bool
}

type blobReader interface {
	io.ReaderAt
	io.Closer
}

// putBlobTx adds refs references to p's blob, creating or reviving its row
// and making sure its content is stored.
func (s *Store) putBlobTx(tx *txn, t *tenant, p *Incoming, refs int64) error {
	// A new row: the content cannot be there (the sweeper deletes content
	// and row together), so store it without looking.
	loc := blobLoc{hash: p.hash, size: p.size, compression: s.blobs.compression(), inFile: s.blobs.inFile(p.size)}
	var err error
	if tx.sqlite { // no RETURNING (see txn)
		var res sql.Result
		res, err = tx.Exec(`INSERT INTO blobs (hash, size, refs, compression, in_file, header, parsed)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (hash) DO NOTHING`,
			p.hash, p.size, refs, loc.compression, loc.inFile, p.header, p.enc)
		if err == nil {
			if n, _ := res.RowsAffected(); n == 0 {
				err = sql.ErrNoRows
			} else {
				loc.id, err = res.LastInsertId()
			}
		}
	} else {
		err = tx.QueryRow(`INSERT INTO blobs (hash, size, refs, compression, in_file, header, parsed)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (hash) DO NOTHING RETURNING id`,
			p.hash, p.size, refs, loc.compression, loc.inFile, p.header, p.enc).Scan(&loc.id)
	}
	if err == nil {
		return s.blobs.storeTx(tx, t, p, loc)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store blob: %w", err)
	}
	// The blob is there already, kept where and how it was when stored: a
	// file staged for it now is an orphan, which the sweeper removes.
	var total int64
	err = addBlobRefs(tx, refs, &total, &loc)
	if err != nil {
		return fmt.Errorf("store blob: %w", err)
	}
	if total == refs { // revived from zero references: its content may have been swept
		return s.blobs.ensureTx(tx, t, p, loc)
	}
	return nil
}

// putBlobsTx is putBlobTx for the deliveries of a batch: each distinct
// blob gets one reference per target. Row by row, as one multi-row INSERT
// would run in a statement journal (a copy of each page it changes, so that
// it can be undone alone): the prepared single-row statements cost less.
func (s *Store) putBlobsTx(tx *txn, t *tenant, ops []*appendOp) error {
	var blobs []*Incoming
	refs := map[string]int64{}
	for _, op := range ops {
		h := string(op.in.hash)
		if refs[h] == 0 {
			blobs = append(blobs, op.in)
		}
		refs[h] += int64(len(op.idx))
	}
	for _, p := range blobs {
		if err := s.putBlobTx(tx, t, p, refs[string(p.hash)]); err != nil {
			return err
		}
	}
	return nil
}

// addBlobRefs adds n references to an existing blob (loc.hash) and reads
// its total references and the rest of loc.
func addBlobRefs(tx *txn, n int64, total *int64, loc *blobLoc) error {
	if !tx.sqlite {
		return tx.QueryRow(`UPDATE blobs SET refs = refs + $1, unref_since = NULL WHERE hash = $2
			RETURNING refs, id, size, compression, in_file`,
			n, loc.hash).Scan(total, &loc.id, &loc.size, &loc.compression, &loc.inFile)
	}
	if err := updateOneRow(tx, `UPDATE blobs SET refs = refs + $1, unref_since = NULL WHERE hash = $2`, n, loc.hash); err != nil {
		return err
	}
	return tx.QueryRow(`SELECT refs, id, size, compression, in_file FROM blobs WHERE hash = $1`, loc.hash).
		Scan(total, &loc.id, &loc.size, &loc.compression, &loc.inFile)
}

var (
	zstdOnce sync.Once
	zstdEnc  *zstd.Encoder
	zstdDec  *zstd.Decoder
)

func zstdCodec() (*zstd.Encoder, *zstd.Decoder) {
	zstdOnce.Do(func() {
		// Deliveries compress in their own goroutines: an encoder per CPU,
		// up to 8. Each compresses one chunk at most, so its window need
		// not be larger (2.6 MB an encoder instead of 18 at the default).
		zstdEnc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault),
			zstd.WithEncoderConcurrency(min(runtime.GOMAXPROCS(0), 8)), zstd.WithWindowSize(chunkSize))
		zstdDec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0))
	})
	return zstdEnc, zstdDec
}

// sqlBlobs keeps content in the blob_chunks table, where concurrent
// deliveries share commits; with fileMin set (the configuration's default
// is 256 KiB), blobs of at least that many bytes are kept as files instead:
// written once rather than twice (WAL, then checkpoint), and outside the
// domain's single write transaction (see migration 0005). With fileMin 0
// a SQLite domain is one file.
type sqlBlobs struct {
	fileMin int64      // 0: no blob is kept in a file
	files   *fileBlobs // the blobs of fileMin bytes or more
}

func newSQLBlobs(compress bool, fileMin int64) *sqlBlobs {
	return &sqlBlobs{fileMin: fileMin, files: &fileBlobs{compress: compress}}
}

func (b *sqlBlobs) compression() int { return b.files.compression() }

func (b *sqlBlobs) inFileRows() string { return "in_file" }

func (b *sqlBlobs) inFile(size int64) bool { return b.fileMin > 0 && size >= b.fileMin }

// stage writes a file blob; for a blob of one chunk kept compressed in the
// database it compresses the content here, in the caller, so that the
// domain's single writer only inserts it.
func (b *sqlBlobs) stage(t *tenant, p *Incoming) error {
	if b.inFile(p.size) {
		return b.files.stage(t, p)
	}
	if b.compression() != compressZstd || p.size > chunkSize || p.packed != nil {
		return nil
	}
	data, ok := p.data.view(0, p.size)
	if !ok { // in more than one piece of the spool
		buf := writeBufPool.Get().(*[]byte)
		defer writeBufPool.Put(buf)
		n, err := p.data.ReadAt((*buf)[:p.size], 0)
		if err != nil && !(errors.Is(err, io.EOF) && int64(n) == p.size) {
			return fmt.Errorf("read spooled message: %w", err)
		}
		data = (*buf)[:n]
	}
	enc, _ := zstdCodec()
	p.packed = enc.EncodeAll(data, nil)
	return nil
}

func (b *sqlBlobs) ensureTx(tx *txn, t *tenant, p *Incoming, loc blobLoc) error {
	if loc.inFile {
		return b.files.ensureTx(tx, t, p, loc)
	}
	var have int
	if err := tx.QueryRow(`SELECT COUNT(*) FROM blob_chunks WHERE blob_id = $1 AND seq = 0`, loc.id).Scan(&have); err != nil {
		return err
	}
	if have > 0 {
		return nil
	}
	return b.storeTx(tx, t, p, loc)
}

// storeTx writes the content chunk by chunk. A chunk that lies in one
// piece of the in-memory spool is passed as it is (the driver copies it);
// any other is read into a pooled buffer.
func (b *sqlBlobs) storeTx(tx *txn, t *tenant, p *Incoming, loc blobLoc) error {
	if loc.inFile {
		return b.files.storeTx(tx, t, p, loc)
	}
	var buf *[]byte
	defer func() {
		if buf != nil {
			writeBufPool.Put(buf)
		}
	}()
	for seq, off := 0, int64(0); seq == 0 || off < p.size; seq++ {
		want := min(int64(chunkSize), p.size-off)
		data, ok := p.data.view(off, want)
		if !ok {
			if buf == nil {
				buf = writeBufPool.Get().(*[]byte)
			}
			n, err := p.data.ReadAt((*buf)[:want], off)
			if err != nil && !(errors.Is(err, io.EOF) && off+int64(n) == p.size) {
				return fmt.Errorf("read spooled message: %w", err)
			}
			data = (*buf)[:n]
		}
		n := len(data)
		switch {
		case loc.compression != compressZstd:
		case p.packed != nil && int64(n) == p.size:
			data = p.packed
		default:
			enc, _ := zstdCodec()
			data = enc.EncodeAll(data, nil)
		}
		if _, err := tx.Exec(`INSERT INTO blob_chunks (blob_id, seq, data) VALUES ($1, $2, $3)`, loc.id, seq, data); err != nil {
			return fmt.Errorf("store blob chunk: %w", err)
		}
		off += int64(n)
	}
	return nil
}

func (b *sqlBlobs) removeTx(tx *txn, t *tenant, loc blobLoc) error {
	if loc.inFile {
		return b.files.removeTx(tx, t, loc)
	}
	_, err := tx.Exec(`DELETE FROM blob_chunks WHERE blob_id = $1`, loc.id)
	return err
}

func (b *sqlBlobs) open(ctx context.Context, t *tenant, loc blobLoc) (blobReader, error) {
	if loc.inFile {
		return b.files.open(ctx, t, loc)
	}
	return &chunkReader{ctx: ctx, db: t.db, id: loc.id, hash: loc.hash, size: loc.size, compression: loc.compression, cached: -1}, nil
}

// chunkReader reads a blob chunk by chunk, keeping the last chunk it read,
// so a sequential read queries each chunk once.
type chunkReader struct {
	ctx         context.Context
	db          *sql.DB
	id          int64
	hash        []byte // for errors
	size        int64
	compression int
	cached      int64
	chunk       []byte
	buf         []byte // owned copy of the last raw chunk, from readBufPool
}

func (r *chunkReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	n := 0
	for n < len(p) && off < r.size {
		seq := off / chunkSize
		if seq != r.cached {
			data, err := r.load(seq)
			if err != nil {
				return n, fmt.Errorf("read blob %x chunk %d: %w", r.hash[:6], seq, err)
			}
			if r.compression == compressZstd {
				_, dec := zstdCodec()
				if data, err = dec.DecodeAll(data, nil); err != nil {
					return n, fmt.Errorf("decompress blob %x chunk %d: %w", r.hash[:6], seq, err)
				}
			}
			r.cached, r.chunk = seq, data
		}
		within := off - seq*chunkSize
		if within >= int64(len(r.chunk)) {
			return n, fmt.Errorf("blob %x: chunk %d is short", r.hash[:6], seq)
		}
		c := copy(p[n:], r.chunk[within:])
		n += c
		off += int64(c)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// load reads one chunk into the reader's own pooled buffer: scanning into
// sql.RawBytes saves database/sql's copy, and the buffer is reused, so a
// large RETR or FETCH makes no garbage per chunk.
func (r *chunkReader) load(seq int64) ([]byte, error) {
	rows, err := r.db.QueryContext(r.ctx, `SELECT data FROM blob_chunks WHERE blob_id = $1 AND seq = $2`, r.id, seq)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, err
		}
		return nil, sql.ErrNoRows
	}
	var raw sql.RawBytes
	if err := rows.Scan(&raw); err != nil {
		return nil, err
	}
	if r.buf == nil {
		if b, ok := readBufPool.Get().(*[]byte); ok {
			r.buf = (*b)[:0]
		}
	}
	r.buf = append(r.buf[:0], raw...)
	return r.buf, rows.Close()
}

var readBufPool sync.Pool

// writeBufPool holds chunk-sized buffers for storeTx.
var writeBufPool = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

func (r *chunkReader) Close() error {
	if r.buf != nil {
		b := r.buf[:0]
		readBufPool.Put(&b)
	}
	r.chunk, r.buf = nil, nil
	return nil
}

// fileBlobs keeps content in files under the tenant's blob directory, named
// by hash: written to a temporary name, synced, renamed, directory synced.
type fileBlobs struct{ compress bool }

func (b *fileBlobs) compression() int {
	if b.compress {
		return compressZstd
	}
	return compressNone
}

func (b *fileBlobs) inFile(int64) bool { return true }

// inFileRows: every row, as the file backend's rows from before migration
// 0005 do not say in_file.
func (b *fileBlobs) inFileRows() string { return "TRUE" }

func blobPath(dir string, hash []byte, compression int) string {
	h := hex.EncodeToString(hash)
	name := filepath.Join(dir, h[:2], h)
	if compression == compressZstd {
		name += ".zst"
	}
	return name
}

func (b *fileBlobs) stage(t *tenant, p *Incoming) error {
	path := blobPath(t.blobDir, p.hash, b.compression())
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	return writeBlobFile(path, p, b.compression())
}

func (b *fileBlobs) storeTx(tx *txn, t *tenant, p *Incoming, loc blobLoc) error {
	return b.ensureTx(tx, t, p, loc)
}

func (b *fileBlobs) ensureTx(tx *txn, t *tenant, p *Incoming, loc blobLoc) error {
	path := blobPath(t.blobDir, p.hash, loc.compression)
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	// Rare: the row was revived after its file was swept, or it was created
	// with another compression setting. Write it now, inside the transaction.
	return writeBlobFile(path, p, loc.compression)
}

func writeBlobFile(path string, p *Incoming, compression int) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("blob directory: %w", err)
	}
	f, err := os.CreateTemp(dir, "tmp-*")
	if err != nil {
		return fmt.Errorf("write blob: %w", err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("write blob: %w", err)
	}
	if compression == compressZstd {
		zw, err := zstd.NewWriter(f, zstd.WithEncoderConcurrency(1))
		if err != nil {
			return fail(err)
		}
		if _, err := io.Copy(zw, io.NewSectionReader(p.data, 0, p.size)); err != nil {
			return fail(err)
		}
		if err := zw.Close(); err != nil {
			return fail(err)
		}
	} else if err := p.data.copyTo(f); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write blob: %w", err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (b *fileBlobs) removeTx(tx *txn, t *tenant, loc blobLoc) error {
	err := os.Remove(blobPath(t.blobDir, loc.hash, loc.compression))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

func (b *fileBlobs) open(ctx context.Context, t *tenant, loc blobLoc) (blobReader, error) {
	f, err := os.Open(blobPath(t.blobDir, loc.hash, loc.compression))
	if err != nil {
		return nil, fmt.Errorf("open blob: %w", err)
	}
	if loc.compression == compressZstd {
		return &zstdFileReader{f: f}, nil
	}
	return f, nil
}

// zstdFileReader gives ReadAt over a compressed file by decompressing from
// the start; reads that move forward continue where the last one stopped.
type zstdFileReader struct {
	f   *os.File
	dec *zstd.Decoder
	pos int64
}

func (z *zstdFileReader) ReadAt(p []byte, off int64) (int, error) {
	if z.dec == nil || off < z.pos {
		if _, err := z.f.Seek(0, io.SeekStart); err != nil {
			return 0, err
		}
		if z.dec == nil {
			dec, err := zstd.NewReader(z.f, zstd.WithDecoderConcurrency(1))
			if err != nil {
				return 0, err
			}
			z.dec = dec
		} else if err := z.dec.Reset(z.f); err != nil {
			return 0, err
		}
		z.pos = 0
	}
	if off > z.pos {
		n, err := io.CopyN(io.Discard, z.dec, off-z.pos)
		z.pos += n
		if err != nil {
			return 0, err
		}
	}
	n, err := io.ReadFull(z.dec, p)
	z.pos += int64(n)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = io.EOF
	}
	return n, err
}

func (z *zstdFileReader) Close() error {
	if z.dec != nil {
		z.dec.Close()
	}
	return z.f.Close()
}
