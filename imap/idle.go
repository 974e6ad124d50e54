package imap

import (
	"errors"
	"os"
	"strings"
	"time"
)

// idlePoll is how often IDLE asks storage for changes without a wake-up:
// changes made by another process (the CLI, "letterbox deliver") raise no
// in-process event.
const idlePoll = 15 * time.Second

// cmdIdle (RFC 2177, RFC 9051 section 6.3.13): report changes as they come
// until the client sends DONE.
func cmdIdle(c *conn, tag string) (string, error) {
	if err := c.p.end(); err != nil {
		return "", err
	}
	c.w.cont("idling")
	if err := c.w.flush(); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	c.nc.SetReadDeadline(time.Now().Add(idleTimeoutAuth))
	c.intr.Waiting(true)
	go func() { done <- c.p.readLine() }()
	defer func() {
		c.intr.Waiting(false)
		c.nc.SetReadDeadline(time.Time{})
	}()
	tick := time.NewTicker(idlePoll)
	defer tick.Stop()
	var wake <-chan struct{}
	if c.sel != nil {
		wake = c.sel.watch.C
	}
	for {
		select {
		case err := <-done:
			if err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					if c.intr.Closing() {
						c.w.untagged("BYE Server shutting down")
					} else {
						c.w.untagged("BYE Autologout; idle for too long")
					}
					c.w.flush()
				}
				return "", err
			}
			if !strings.EqualFold(strings.TrimSpace(string(c.p.line)), "DONE") {
				c.p.pos = len(c.p.line)
				return "", bad("Expected DONE")
			}
			c.p.pos = len(c.p.line)
			return "", nil
		case <-wake:
			if err := c.idleSync(); err != nil {
				return "", err
			}
		case <-tick.C:
			if c.sel != nil {
				if err := c.idleSync(); err != nil {
					return "", err
				}
			}
		}
	}
}

func (c *conn) idleSync() error {
	if err := c.sel.sync(c, true, true); err != nil {
		c.w.flush()
		return err
	}
	return c.w.flush()
}
