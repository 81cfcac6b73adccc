package core

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestAppendCommand(t *testing.T) {
	got := string(appendCommand(nil, "SET", "k", "", "v\r\n"))
	want := "*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n$3\r\nv\r\n\r\n"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := string(appendBulkInt(nil, -42)); got != "$3\r\n-42\r\n" {
		t.Fatalf("appendBulkInt: %q", got)
	}
}

func TestReadReply(t *testing.T) {
	tests := []struct {
		name, in string
		kind     byte
		str      string
		n        int64
		elems    int
		err      error
	}{
		{"simple", "+OK\r\n", '+', "OK", 0, 0, nil},
		{"error", "-NOSCRIPT No matching script\r\n", '-', "NOSCRIPT No matching script", 0, 0, nil},
		{"integer", ":-7\r\n", ':', "", -7, 0, nil},
		{"bulk", "$5\r\nhe\r\no\r\n", '$', "he\r\no", 5, 0, nil},
		{"empty bulk", "$0\r\n\r\n", '$', "", 0, 0, nil},
		{"null bulk", "$-1\r\n", '$', "", -1, 0, nil},
		{"array", "*3\r\n:1\r\n:0\r\n$1\r\nx\r\n", '*', "", 3, 3, nil},
		{"null array", "*-1\r\n", '*', "", -1, 0, nil},
		{"unknown type", "%2\r\n", 0, "", 0, 0, ErrStoreProtocol},
		{"bare newline", "+OK\n", 0, "", 0, 0, ErrStoreProtocol},
		{"bad integer", ":x\r\n", 0, "", 0, 0, ErrStoreProtocol},
		{"bulk without crlf", "$2\r\nabcd", 0, "", 0, 0, ErrStoreProtocol},
		{"huge bulk", "$99999999999\r\n", 0, "", 0, 0, ErrStoreProtocol},
		{"negative bulk", "$-2\r\n", 0, "", 0, 0, ErrStoreProtocol},
		{"nested arrays", "*1\r\n*1\r\n:1\r\n", 0, "", 0, 0, ErrStoreProtocol},
		{"empty line", "\r\n", 0, "", 0, 0, ErrStoreProtocol},
		{"truncated", "$5\r\nab", 0, "", 0, 0, io.ErrUnexpectedEOF},
		{"closed", "", 0, "", 0, 0, io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := readReply(bufio.NewReader(strings.NewReader(tt.in)))
			if tt.err != nil {
				if err == nil || !(errors.Is(err, tt.err) || tt.err == io.ErrUnexpectedEOF && errors.Is(err, io.EOF)) {
					t.Fatalf("error %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rep.kind != tt.kind || rep.str != tt.str || rep.n != tt.n || len(rep.elems) != tt.elems {
				t.Fatalf("got %+v", rep)
			}
		})
	}
}

// TestReadReplyLongLine proves a line longer than the read buffer is an
// error, not a partial reply.
func TestReadReplyLongLine(t *testing.T) {
	in := "+" + strings.Repeat("a", 100) + "\r\n"
	_, err := readReply(bufio.NewReaderSize(strings.NewReader(in), 16))
	if !errors.Is(err, ErrStoreProtocol) {
		t.Fatalf("error %v, want ErrStoreProtocol", err)
	}
}

// TestReadReplySequence reads replies back to back, as a pipelined
// connect (AUTH, SELECT, PING) does.
func TestReadReplySequence(t *testing.T) {
	r := bufio.NewReader(strings.NewReader("+OK\r\n+OK\r\n+PONG\r\n"))
	for _, want := range []string{"OK", "OK", "PONG"} {
		rep, err := readReply(r)
		if err != nil || rep.str != want {
			t.Fatalf("got %+v, %v; want %s", rep, err, want)
		}
	}
}
