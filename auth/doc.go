// Package auth authenticates clients. Its password part creates and verifies
// stored password hashes.
//
// Stored passwords use Dovecot's notation, "{SCHEME}data", so that users
// migrating from Dovecot keep their passwords: VerifyPassword understands the
// schemes Dovecot sites store (the list is in its documentation), and
// HashPassword writes argon2id in the exact form Dovecot writes, so that
// Dovecot can verify our hashes too. A hash without a {SCHEME} prefix is a
// crypt(3) string, recognised by its "$id$" (Dovecot's
// default_pass_scheme=CRYPT).
//
// Rules for everything in this package and for its callers:
//
//   - Passwords are secrets. Never log them, never put them in an error, a
//     metric label or a panic message, and never keep them longer than the
//     call that checks them. Errors from this package name the scheme and the
//     fault, never the password and never the stored hash.
//   - Every comparison of secret material (digests, derived keys, crypt
//     strings, cleartext passwords) is constant-time (crypto/subtle). Only the
//     structure of a stored hash (its scheme and parameters) may influence
//     timing.
//   - A wrong password is (false, nil). An error means the stored hash could
//     not be used at all (unknown scheme, malformed, over a cost limit): the
//     login must fail and the operator must be told, without the hash.
//   - Stored hashes come from the operator, but they are still bounded: a
//     cost parameter above the limits below is refused instead of letting one
//     login burn minutes of CPU or gigabytes of memory. Limits: bcrypt cost
//     <= 16, SHA-crypt rounds <= 10,000,000, PBKDF2 and SCRAM iterations
//     <= 10,000,000, argon2 memory <= 1 GiB, argon2 passes <= 32.
//   - The verification Cache never stores a password. An entry is keyed by
//     account and holds HMAC-SHA256 values computed with a random key made
//     when the Cache is created (never written anywhere): one over the stored
//     hash, one over the stored hash and the presented password. Only
//     successful verifications are cached; a changed stored hash misses.
package auth
