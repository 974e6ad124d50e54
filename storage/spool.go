package storage

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"letterbox/message"
)

// spoolMemory is how much of a message is kept in memory before it spills
// to a temporary file.
const spoolMemory = 4 << 20

// maxStoredHeader caps the header block kept for header search: a message
// without a header/body separator would otherwise be all header.
const maxStoredHeader = 256 << 10

// Incoming is a message read once, normalised, hashed and parsed: ready to
// be stored for any number of recipients (see Receive and Deliver).
type Incoming struct {
	hash   []byte
	size   int64
	parsed *message.Parsed
	enc    []byte // parsed, encoded for the blobs row
	header []byte // the top-level header, for header search
	data   *spool
	// packed is the content compressed ahead of the write transaction,
	// when the store compresses and the blob is one database chunk.
	packed []byte
}

// Close releases the spooled copy.
func (p *Incoming) Close() { p.data.close() }

// Size is the message's size in bytes, as stored and served.
func (p *Incoming) Size() int64 { return p.size }

// Parsed is the message's parsed form.
func (p *Incoming) Parsed() *message.Parsed { return p.parsed }

// Header is the message's top-level header block, blank line included.
func (p *Incoming) Header() []byte { return p.header }

// ReadAt reads the (normalised) message content.
func (p *Incoming) ReadAt(b []byte, off int64) (int, error) { return p.data.ReadAt(b, off) }

// Receive reads a message from r once for any number of deliveries. The
// caller must Close it.
func (s *Store) Receive(r io.Reader) (*Incoming, error) { return s.prepare(r, s.opts.MaxMessageSize) }

// prepare reads a message from r, byte for byte (callers that receive
// LF-only text, such as a pipe from an MTA, turn it into CRLF first, as
// lmtp does: IMAP serves CRLF, and RFC822.SIZE must count what it serves). A
// message over max bytes is refused with ErrTooBig as soon as it passes the
// limit, without reading the rest.
func (s *Store) prepare(r io.Reader, max int64) (*Incoming, error) {
	sp := &spool{dir: filepath.Join(s.opts.DataDir, "tmp")}
	h := sha256.New()
	n, err := sp.fill(io.LimitReader(r, max+1), h)
	if err == nil && n > max {
		err = fmt.Errorf("%w: more than %d bytes", ErrTooBig, max)
	}
	if err != nil {
		sp.close()
		return nil, err
	}
	parsed, err := message.Parse(io.NewSectionReader(sp, 0, sp.size))
	if err != nil {
		sp.close()
		return nil, fmt.Errorf("parse message: %w", err)
	}
	hdrLen := min(parsed.Root.HeaderSize, sp.size, maxStoredHeader)
	header := make([]byte, hdrLen)
	if _, err := sp.ReadAt(header, 0); err != nil && !errors.Is(err, io.EOF) {
		sp.close()
		return nil, err
	}
	return &Incoming{hash: h.Sum(nil), size: sp.size, parsed: parsed, enc: parsed.Marshal(), header: header, data: sp}, nil
}

// spool holds a message in memory, in pooled fixed-size chunks (no
// copying as it grows), or in a temporary file once large.
type spool struct {
	dir    string
	chunks [][]byte
	f      *os.File
	size   int64
}

const spoolChunk = 64 << 10

var chunkPool = sync.Pool{New: func() any { return make([]byte, spoolChunk) }}

func (s *spool) Write(p []byte) (int, error) {
	if s.f == nil && s.size+int64(len(p)) > spoolMemory {
		f, err := os.CreateTemp(s.dir, "spool-*")
		if err != nil {
			return 0, fmt.Errorf("spool message: %w", err)
		}
		os.Remove(f.Name()) // gone when closed, even after a crash
		for i, c := range s.chunks {
			end := min(int64(spoolChunk), s.size-int64(i)*spoolChunk)
			if end <= 0 {
				break // a chunk taken for a read that brought nothing
			}
			if _, err := f.Write(c[:end]); err != nil {
				f.Close()
				return 0, fmt.Errorf("spool message: %w", err)
			}
		}
		s.releaseChunks()
		s.f = f
	}
	if s.f != nil {
		n, err := s.f.Write(p)
		s.size += int64(n)
		return n, err
	}
	written := 0
	for written < len(p) {
		off := int(s.size % spoolChunk)
		if off == 0 && s.size/spoolChunk == int64(len(s.chunks)) {
			s.chunks = append(s.chunks, chunkPool.Get().([]byte))
		}
		n := copy(s.chunks[len(s.chunks)-1][off:], p[written:])
		written += n
		s.size += int64(n)
	}
	return written, nil
}

// fill reads r to its end into the spool and writes every byte to h as
// well. While the message fits in memory, r reads straight into the
// spool's chunks: no copy buffer, and each byte is copied once.
func (s *spool) fill(r io.Reader, h io.Writer) (int64, error) {
	start := s.size
	var buf []byte // for the part that goes to a file
	for {
		var p []byte
		inMemory := s.f == nil && s.size < spoolMemory
		if inMemory {
			off := s.size % spoolChunk
			if off == 0 && s.size/spoolChunk == int64(len(s.chunks)) {
				s.chunks = append(s.chunks, chunkPool.Get().([]byte))
			}
			p = s.chunks[len(s.chunks)-1][off:min(spoolChunk, off+spoolMemory-s.size)]
		} else {
			if buf == nil {
				buf = chunkPool.Get().([]byte)
				defer chunkPool.Put(buf)
			}
			p = buf
		}
		n, err := r.Read(p)
		if n > 0 {
			h.Write(p[:n])
			if inMemory {
				s.size += int64(n)
			} else if _, werr := s.Write(p[:n]); werr != nil {
				return s.size - start, werr
			}
		}
		if errors.Is(err, io.EOF) {
			return s.size - start, nil
		}
		if err != nil {
			return s.size - start, err
		}
	}
}

// view returns the n bytes at off without copying them when they lie in
// one in-memory chunk. The slice is valid until the spool is closed.
func (s *spool) view(off, n int64) ([]byte, bool) {
	if s.f != nil || off < 0 || n < 0 || off+n > s.size {
		return nil, false
	}
	if n == 0 {
		return []byte{}, true
	}
	i, within := off/spoolChunk, off%spoolChunk
	if within+n > spoolChunk {
		return nil, false
	}
	return s.chunks[i][within : within+n], true
}

func (s *spool) ReadAt(p []byte, off int64) (int, error) {
	if s.f != nil {
		return s.f.ReadAt(p, off)
	}
	n := 0
	for n < len(p) && off < s.size {
		c := s.chunks[off/spoolChunk]
		within := off % spoolChunk
		end := min(int64(spoolChunk), s.size-(off/spoolChunk)*spoolChunk)
		k := copy(p[n:], c[within:end])
		n += k
		off += int64(k)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// copyTo writes the whole message to f: the in-memory chunks as they are,
// or, from a spool file, inside the kernel (copy_file_range), without a
// pass through a buffer of ours.
func (s *spool) copyTo(f *os.File) error {
	if s.f == nil {
		for i := int64(0); i*spoolChunk < s.size; i++ {
			end := min(spoolChunk, s.size-i*spoolChunk)
			if _, err := f.Write(s.chunks[i][:end]); err != nil {
				return err
			}
		}
		return nil
	}
	// The offset is the spool's own: its writes are done, and its reads
	// (ReadAt) do not use it.
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	n, err := f.ReadFrom(io.LimitReader(s.f, s.size))
	if err == nil && n != s.size {
		err = fmt.Errorf("spool: copied %d of %d bytes", n, s.size)
	}
	return err
}

func (s *spool) releaseChunks() {
	for _, c := range s.chunks {
		chunkPool.Put(c)
	}
	s.chunks = nil
}

func (s *spool) close() {
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
	s.releaseChunks()
}
