package message

// ParseAddressList parses an address-list header value leniently, as the
// envelope does: comments dropped, quotes removed, group markers kept
// (see Address). It never fails.
func ParseAddressList(v string) []Address { return parseAddressList([]byte(v)) }
