package core

import (
	"bufio"
	"fmt"
	"strconv"
)

// RESP2, the Redis serialization protocol, as far as imgate's few commands
// need it: a command is an array of bulk strings, and a reply is a simple
// string (+OK), an error (-NOSCRIPT ...), an integer (:1), a bulk string
// ($3 abc, $-1 for none) or an array of replies (*2 ...). Valkey speaks
// the same protocol.

// respScalar is an element of an array reply: imgate's commands never get
// arrays inside arrays. It is declared before respReply, which holds it:
// Yaegi v0.16.1 failed to load core ("cannot use type core.respReply as
// type unsafe2.dummy") when respReply held a slice of itself, and again
// when it held a slice of a type declared after it.
type respScalar struct {
	kind byte
	str  string
	n    int64
}

// respReply is one decoded reply.
type respReply struct {
	// kind is the reply's type byte: '+', '-', ':', '$' or '*'.
	kind byte
	// str is a simple string, an error text or a bulk string.
	str string
	// n is an integer reply, or -1 for a null bulk string or array.
	n int64
	// elems are an array's elements.
	elems []respScalar
}

// maxRespBulk bounds a bulk string or array read from the server: imgate's
// replies are a few bytes, and a corrupt length must not allocate
// gigabytes.
const maxRespBulk = 1 << 20

// appendArrayHeader starts a command of n arguments.
func appendArrayHeader(buf []byte, n int) []byte {
	buf = append(buf, '*')
	buf = strconv.AppendInt(buf, int64(n), 10)
	return append(buf, '\r', '\n')
}

// appendBulk appends one argument.
func appendBulk(buf []byte, s string) []byte {
	buf = append(buf, '$')
	buf = strconv.AppendInt(buf, int64(len(s)), 10)
	buf = append(buf, '\r', '\n')
	buf = append(buf, s...)
	return append(buf, '\r', '\n')
}

// appendBulkInt appends an integer argument.
func appendBulkInt(buf []byte, v int64) []byte {
	var digits [20]byte
	return appendBulk(buf, string(strconv.AppendInt(digits[:0], v, 10)))
}

// appendCommand appends a whole command.
func appendCommand(buf []byte, args ...string) []byte {
	buf = appendArrayHeader(buf, len(args))
	for _, a := range args {
		buf = appendBulk(buf, a)
	}
	return buf
}

// readReply reads one reply. A reply the protocol does not allow, or an
// array inside an array, is an ErrStoreProtocol: the connection cannot be
// trusted after it.
func readReply(r *bufio.Reader) (respReply, error) {
	return readReplyDepth(r, 0)
}

func readReplyDepth(r *bufio.Reader, depth int) (respReply, error) {
	var rep respReply
	line, err := readLine(r)
	if err != nil {
		return rep, err
	}
	if len(line) == 0 {
		return rep, fmt.Errorf("empty reply line: %w", ErrStoreProtocol)
	}
	rep.kind = line[0]
	body := line[1:]
	switch rep.kind {
	case '+', '-':
		rep.str = string(body)
		return rep, nil
	case ':':
		rep.n, err = strconv.ParseInt(string(body), 10, 64)
		if err != nil {
			return rep, fmt.Errorf("integer reply %q: %w", body, ErrStoreProtocol)
		}
		return rep, nil
	case '$':
		return readBulk(r, rep, body)
	case '*':
		if depth > 0 {
			return rep, fmt.Errorf("an array inside an array: %w", ErrStoreProtocol)
		}
		return readArray(r, rep, body, depth)
	}
	return rep, fmt.Errorf("reply type %q: %w", rep.kind, ErrStoreProtocol)
}

func readBulk(r *bufio.Reader, rep respReply, body []byte) (respReply, error) {
	n, err := strconv.ParseInt(string(body), 10, 64)
	if err != nil || n < -1 || n > maxRespBulk {
		return rep, fmt.Errorf("bulk length %q: %w", body, ErrStoreProtocol)
	}
	rep.n = n
	if n < 0 {
		return rep, nil
	}
	data := make([]byte, n+2)
	if _, err = readFull(r, data); err != nil {
		return rep, err
	}
	if data[n] != '\r' || data[n+1] != '\n' {
		return rep, fmt.Errorf("bulk string not ended by CRLF: %w", ErrStoreProtocol)
	}
	rep.str = string(data[:n])
	return rep, nil
}

func readArray(r *bufio.Reader, rep respReply, body []byte, depth int) (respReply, error) {
	n, err := strconv.ParseInt(string(body), 10, 64)
	if err != nil || n < -1 || n > maxRespBulk {
		return rep, fmt.Errorf("array length %q: %w", body, ErrStoreProtocol)
	}
	rep.n = n
	if n < 0 {
		return rep, nil
	}
	rep.elems = make([]respScalar, 0, n)
	for i := int64(0); i < n; i++ {
		elem, eerr := readReplyDepth(r, depth+1)
		if eerr != nil {
			return rep, eerr
		}
		rep.elems = append(rep.elems, respScalar{kind: elem.kind, str: elem.str, n: elem.n})
	}
	return rep, nil
}

// readLine returns one CRLF-terminated line without its terminator. The
// slice is only valid until the next read.
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		if err == bufio.ErrBufferFull {
			return nil, fmt.Errorf("reply line over %d bytes: %w", r.Size(), ErrStoreProtocol)
		}
		return nil, err
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("reply line not ended by CRLF: %w", ErrStoreProtocol)
	}
	return line[:len(line)-2], nil
}

// readFull fills buf from r.
func readFull(r *bufio.Reader, buf []byte) (int, error) {
	read := 0
	for read < len(buf) {
		n, err := r.Read(buf[read:])
		read += n
		if err != nil {
			return read, err
		}
	}
	return read, nil
}
