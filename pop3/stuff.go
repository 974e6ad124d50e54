package pop3

import (
	"bytes"
	"io"
)

// stuffer writes message content as the body of a multi-line response
// (RFC 1939 section 3): a line that starts with "." gets one more "."
// in front. Lines start after LF, the same boundary clients unstuff on.
type stuffer struct {
	w   stuffWriter
	bol bool // the next byte starts a line
}

// stuffWriter is what a stuffer writes to: the connection's buffered
// writer, or any buffer.
type stuffWriter interface {
	io.Writer
	io.ByteWriter
	io.StringWriter
}

func newStuffer(w stuffWriter) *stuffer { return &stuffer{w: w, bol: true} }

func (s *stuffer) Write(p []byte) (int, error) {
	n := len(p)
	if n == 0 {
		return 0, nil
	}
	// Look for dots, not line ends: text has fewer of them, and base64
	// attachments none. A dot needs stuffing when it starts a line.
	start, bol := 0, s.bol
	for i := 0; i < len(p); {
		j := bytes.IndexByte(p[i:], '.')
		if j < 0 {
			break
		}
		i += j
		if (i == 0 && bol) || (i > 0 && p[i-1] == '\n') {
			s.w.Write(p[start:i])
			s.w.WriteByte('.')
			start = i // the dot itself goes out with the next piece
		}
		i++
	}
	if _, err := s.w.Write(p[start:]); err != nil {
		return 0, err
	}
	s.bol = p[n-1] == '\n'
	return n, nil
}

// end terminates the response: a CRLF first if the content did not end
// with a line ending, then the "." line.
func (s *stuffer) end() error {
	if !s.bol {
		s.w.WriteString("\r\n")
	}
	_, err := s.w.WriteString(".\r\n")
	return err
}

// copyLines copies r to w up to and including the lines-th LF, or all of r
// if it has fewer lines (TOP, RFC 1939 section 7).
func copyLines(w io.Writer, r io.Reader, lines uint64, buf []byte) error {
	for lines > 0 {
		n, err := r.Read(buf)
		chunk := buf[:n]
		for off := 0; lines > 0; {
			j := bytes.IndexByte(chunk[off:], '\n')
			if j < 0 {
				break
			}
			off += j + 1
			if lines--; lines == 0 {
				chunk = chunk[:off]
			}
		}
		if len(chunk) > 0 {
			if _, werr := w.Write(chunk); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}
