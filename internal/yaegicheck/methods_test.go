package yaegicheck

import "testing"

func TestErrorTypes(t *testing.T) {
	runSnippets(t, []snippet{
		{name: "Unwrap on error types", src: `package p

type wrapErr struct{ err error }

func (e *wrapErr) Error() string { return "wrapped: " + e.err.Error() }
func (e *wrapErr) Unwrap() error { return e.err } // want error-type

type valueErr struct{ errs []error }

func (e valueErr) Error() string   { return "several" }
func (e valueErr) Unwrap() []error { return e.errs } // want error-type
`},
		{name: "Unwrap without Error, Error without Unwrap", src: `package p

import (
	"errors"
	"net"
)

var ErrClosed = errors.New("closed")

type conn struct{ net.Conn }

func (c *conn) Unwrap() net.Conn { return c.Conn }

type plainErr struct{}

func (plainErr) Error() string { return "plain" }
`},
	})
}

func TestJSONMethods(t *testing.T) {
	runSnippets(t, []snippet{
		{name: "JSON and text marshalling methods", src: `package p

type level int

func (l level) MarshalJSON() ([]byte, error)     { return []byte("1"), nil } // want json-method
func (l *level) UnmarshalJSON(b []byte) error    { return nil } // want json-method
func (l level) MarshalText() ([]byte, error)     { return []byte("1"), nil } // want json-method
func (l *level) UnmarshalText(b []byte) error    { return nil } // want json-method
`},
		{name: "functions and other methods", src: `package p

import "encoding/json"

type level int

func (l level) String() string { return "level" }

func MarshalJSON(v any) ([]byte, error) { return json.Marshal(v) }
`},
	})
}
