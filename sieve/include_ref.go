package sieve

// includeRef names a script included by another (RFC 6609).
type includeRef struct {
	location string // "personal" or "global"
	name     string
}
