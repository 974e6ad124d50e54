package lmtp

import (
	"bytes"
	"net"
	"strings"
	"time"
)

// traceReserve is room kept under the message size limit for the trace
// headers, so that a message that fits the SIZE the server advertises
// still fits once they are added. traceHeader stays below it whatever the
// client sends (addresses are at most maxPath, the LHLO name maxHelo).
const traceReserve = 4096

// traceHeader returns the header fields prepended to a message: Return-Path
// (RFC 5321 section 4.4), Delivered-To, and a Received time stamp line
// (RFC 5321 section 4.4: From-domain By-domain Opt-info ";" date-time).
// The content is shared by every recipient of the transaction, so
// Delivered-To and "for" are written only when it has a single recipient
// address.
func traceHeader(env *Envelope, host string, now time.Time) []byte {
	var b bytes.Buffer
	if !env.UnknownSender {
		b.WriteString("Return-Path: <")
		b.WriteString(formatAddress(env.From))
		b.WriteString(">\r\n")
	}
	single := singleAddress(env.Recipients)
	if single != "" {
		b.WriteString("Delivered-To: ")
		b.WriteString(formatAddress(single))
		b.WriteString("\r\n")
	}
	b.WriteString("Received: ")
	if env.Protocol != "" {
		b.WriteString("from ")
		b.WriteString(cleanHelo(env.Helo))
		if ip := remoteIP(env.Remote); ip != "" {
			b.WriteString(" (")
			b.WriteString(ip)
			b.WriteString(")")
		}
		b.WriteString("\r\n\tby ")
	} else {
		b.WriteString("by ")
	}
	b.WriteString(host)
	b.WriteString(" (Letterbox)")
	if env.Protocol != "" {
		// LMTP is registered in the "with" protocol types (RFC 3848).
		b.WriteString(" with ")
		b.WriteString(env.Protocol)
	}
	b.WriteString(" id ")
	b.WriteString(env.ID)
	if single != "" {
		b.WriteString("\r\n\tfor <")
		b.WriteString(formatAddress(single))
		b.WriteString(">")
	}
	b.WriteString(";\r\n\t")
	b.WriteString(now.Format(time.RFC1123Z))
	b.WriteString("\r\n")
	return b.Bytes()
}

// singleAddress returns the recipient address when every recipient gave
// the same one (compared without case), else "".
func singleAddress(rcpts []*Recipient) string {
	if len(rcpts) == 0 {
		return ""
	}
	first := rcpts[0].Address
	for _, rc := range rcpts[1:] {
		if !strings.EqualFold(rc.Address, first) {
			return ""
		}
	}
	return first
}

// remoteIP is the TCP-info of a Received header: the client's address
// literal (RFC 5321 section 4.1.3), or "" for a unix socket.
func remoteIP(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return ""
	}
	if ip4 := tcp.IP.To4(); ip4 != nil {
		return "[" + ip4.String() + "]"
	}
	return "[IPv6:" + tcp.IP.String() + "]"
}
