package sieve

import (
	"errors"
	"fmt"
)

// Error is a compile-time or run-time error at a place in a script.
type Error struct {
	Script string // script name, "" when unknown
	Pos    Pos
	Msg    string
}

func (e *Error) Error() string {
	name := e.Script
	if name == "" {
		name = "script"
	}
	if e.Pos.Line == 0 {
		return fmt.Sprintf("%s: %s", name, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", name, e.Pos.Line, e.Pos.Col, e.Msg)
}

func errorAt(p Pos, format string, args ...any) *Error {
	return &Error{Pos: p, Msg: fmt.Sprintf(format, args...)}
}

// errStop ends a script early: the stop command, and the end of a
// script that was included (return).
var errStop = errors.New("stop")

// errReturn ends the current included script only (include's return).
var errReturn = errors.New("return")
