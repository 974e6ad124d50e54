package auth

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"letterbox/storage"
)

// ErrBadCredentials is the one answer for an unknown user and a wrong
// password alike, so that a client cannot tell which it was.
var ErrBadCredentials = errors.New("invalid credentials")

// Authenticator checks logins against the accounts in storage.
type Authenticator struct {
	Store    *storage.Store
	Verifier Verifier
}

// dummyHash is verified when the account does not exist, so that an unknown
// user costs as much time as a wrong password. Made on first use: argon2id
// is too slow for program start.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("letterbox-no-such-user")
	return h
})

var verifySlots = make(chan struct{}, max(2, runtime.NumCPU()))

// Authenticate returns the account for login when password is right.
func (a *Authenticator) Authenticate(ctx context.Context, login, password string) (*storage.Account, error) {
	acct, err := a.Store.Account(ctx, login)
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrNoDomain) || errors.Is(err, storage.ErrInvalidName) {
		verifySlots <- struct{}{}
		VerifyPassword(dummyHash(), password)
		<-verifySlots
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, fmt.Errorf("look up account: %w", err)
	}
	// Bound concurrent hash computations: one argon2id check takes 64 MiB,
	// so a login storm must queue rather than exhaust memory.
	verifySlots <- struct{}{}
	ok, err := a.Verifier.Verify(acct.Name, acct.PasswordHash, password)
	<-verifySlots
	if err != nil {
		return nil, fmt.Errorf("account %s: stored password hash: %w", acct.Name, err)
	}
	if !ok {
		return nil, ErrBadCredentials
	}
	return acct, nil
}
