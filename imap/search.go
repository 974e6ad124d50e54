package imap

func cmdSearch(c *conn, tag string) (string, error) {
	return "", no("CANNOT", "SEARCH is not implemented yet")
}
