package imap

func cmdFetch(c *conn, tag string) (string, error) {
	return "", no("CANNOT", "FETCH is not implemented yet")
}
