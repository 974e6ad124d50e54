package storage

import (
	"io"
	"mime"
	"strings"

	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/charset"
)

var wordDecoder = &mime.WordDecoder{CharsetReader: charset.Reader}

// decodeHeader decodes RFC 2047 encoded words; undecodable text stays as is.
func decodeHeader(v string) string {
	d, err := wordDecoder.DecodeHeader(v)
	if err != nil {
		return v
	}
	return d
}

// extractText decodes a message for BODY and TEXT search: the header with
// encoded words decoded, and every text part's content after its transfer
// encoding and charset. A part that cannot be decoded contributes its raw
// bytes, so that search still finds what a user sees in a broken message.
func extractText(r io.Reader) *messageText {
	out := &messageText{}
	e, err := gomessage.Read(r)
	if e == nil {
		return out
	}
	var hdr strings.Builder
	fields := e.Header.Fields()
	for fields.Next() {
		hdr.WriteString(fields.Key())
		hdr.WriteString(": ")
		hdr.WriteString(decodeHeader(fields.Value()))
		hdr.WriteString("\n")
	}
	out.header = hdr.String()
	if err != nil && !gomessage.IsUnknownCharset(err) && !gomessage.IsUnknownEncoding(err) {
		b, _ := io.ReadAll(io.LimitReader(e.Body, maxSearchText))
		out.body = string(b)
		return out
	}
	var body strings.Builder
	walkText(e, &body, 0)
	out.body = body.String()
	return out
}

func walkText(e *gomessage.Entity, w *strings.Builder, depth int) {
	if depth > 20 || w.Len() >= maxSearchText {
		return
	}
	if mr := e.MultipartReader(); mr != nil {
		for {
			p, err := mr.NextPart()
			if p == nil || err != nil && !gomessage.IsUnknownCharset(err) && !gomessage.IsUnknownEncoding(err) {
				return
			}
			walkText(p, w, depth+1)
		}
	}
	t, _, _ := e.Header.ContentType()
	if t != "" && !strings.HasPrefix(t, "text/") && t != "message/rfc822" {
		return
	}
	b, _ := io.ReadAll(io.LimitReader(e.Body, int64(maxSearchText-w.Len())))
	w.Write(b)
	w.WriteString("\n")
}
