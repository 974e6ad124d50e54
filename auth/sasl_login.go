package auth

import (
	"errors"

	"github.com/emersion/go-sasl"
)

// NewLoginServer is the server side of the LOGIN mechanism
// (draft-murchison-sasl-login), obsolete but still sent by many clients;
// go-sasl has it only as a client. It asks for the user name, then the
// password, and hands both to done. An initial response is the user name.
func NewLoginServer(done func(username, password string)) sasl.Server {
	return &loginServer{done: done}
}

type loginServer struct {
	step     int
	username string
	done     func(username, password string)
}

func (m *loginServer) Next(response []byte) ([]byte, bool, error) {
	m.step++
	switch m.step {
	case 1:
		if response == nil {
			return []byte("Username:"), false, nil
		}
		m.username, m.step = string(response), 2
		return []byte("Password:"), false, nil
	case 2:
		m.username = string(response)
		return []byte("Password:"), false, nil
	case 3:
		m.done(m.username, string(response))
		return nil, true, nil
	}
	return nil, false, errors.New("LOGIN: unexpected client response")
}
