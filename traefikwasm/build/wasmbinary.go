package build

import "errors"

// errTruncated marks a read past the end of a module part.
var errTruncated = errors.New("truncated or malformed")

// reader decodes the WebAssembly binary format's primitives. The first
// error sticks: later reads return zero values, and callers check err
// once after a group of reads.
type reader struct {
	data []byte
	pos  int
	err  error
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = errTruncated
	}
	r.pos = len(r.data)
}

func (r *reader) byte() byte {
	if r.err != nil || r.pos >= len(r.data) {
		r.fail()
		return 0
	}
	b := r.data[r.pos]
	r.pos++
	return b
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil || n < 0 || n > len(r.data)-r.pos {
		r.fail()
		return nil
	}
	b := r.data[r.pos : r.pos+n]
	r.pos += n
	return b
}

func (r *reader) skip(n int) { r.bytes(n) }

// u32 reads an unsigned LEB128 of at most 5 bytes.
func (r *reader) u32() uint32 {
	var v uint64
	for shift := 0; shift < 35; shift += 7 {
		b := r.byte()
		v |= uint64(b&0x7f) << shift
		if b < 0x80 {
			if v > 1<<32-1 {
				r.fail()
			}
			return uint32(v)
		}
	}
	r.fail()
	return 0
}

// sleb reads a signed LEB128 of at most 10 bytes (i32.const, i64.const
// and block types use them); only its length matters here.
func (r *reader) sleb() {
	for i := 0; i < 10; i++ {
		if r.byte() < 0x80 {
			return
		}
	}
	r.fail()
}

// blockType reads a block type: empty (0x40), a value type (one byte
// with the sign bit pattern of a negative LEB), or a type index.
func (r *reader) blockType() {
	if r.pos < len(r.data) && r.data[r.pos]&0xc0 == 0x40 {
		r.pos++
		return
	}
	r.sleb()
}

// limits reads a table's or memory's limits: a flag, the minimum and,
// when flag bit 0 is set, the maximum.
func (r *reader) limits() {
	flag := r.byte()
	r.u32()
	if flag&1 == 1 {
		r.u32()
	}
}

// uleb encodes v as an unsigned LEB128.
func uleb(v uint64) []byte {
	var out []byte
	for {
		b := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(out, b)
		}
		out = append(out, b|0x80)
	}
}

// sleb encodes v as a signed LEB128.
func sleb(v int64) []byte {
	var out []byte
	for {
		b := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && b&0x40 == 0) || (v == -1 && b&0x40 != 0) {
			return append(out, b)
		}
		out = append(out, b|0x80)
	}
}
