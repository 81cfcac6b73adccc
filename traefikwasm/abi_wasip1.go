//go:build wasip1

package main

// The http-wasm handler ABI (https://http-wasm.io/http-handler-abi/) as
// Traefik v3.7.9's host (http-wasm-host-go v0.7.0) implements it: the
// functions the guest imports from module "http_handler" and the two it
// exports. Standard Go (1.24+) declares them with //go:wasmimport and
// //go:wasmexport; a string parameter is passed as the (pointer, length)
// pair the ABI expects.

// Header and body kinds.
const (
	kindRequest  uint32 = 0
	kindResponse uint32 = 1
)

// featureBufferResponse keeps next's status and body in the host so that
// handle_response can read and replace them.
const featureBufferResponse uint32 = 1 << 1

// Log levels of the ABI.
const (
	levelDebug int32 = -1
	levelError int32 = 2
)

//go:wasmimport http_handler enable_features
func hostEnableFeatures(features uint32) uint32

//go:wasmimport http_handler get_config
func hostGetConfig(buf *byte, limit uint32) uint32

//go:wasmimport http_handler log
func hostLog(level int32, message string)

//go:wasmimport http_handler get_method
func hostGetMethod(buf *byte, limit uint32) uint32

//go:wasmimport http_handler get_uri
func hostGetURI(buf *byte, limit uint32) uint32

//go:wasmimport http_handler set_uri
func hostSetURI(uri string)

//go:wasmimport http_handler get_source_addr
func hostGetSourceAddr(buf *byte, limit uint32) uint32

//go:wasmimport http_handler get_header_names
func hostGetHeaderNames(kind uint32, buf *byte, limit uint32) uint64

//go:wasmimport http_handler get_header_values
func hostGetHeaderValues(kind uint32, name string, buf *byte, limit uint32) uint64

//go:wasmimport http_handler set_header_value
func hostSetHeaderValue(kind uint32, name string, value string)

//go:wasmimport http_handler add_header_value
func hostAddHeaderValue(kind uint32, name string, value string)

//go:wasmimport http_handler remove_header
func hostRemoveHeader(kind uint32, name string)

//go:wasmimport http_handler read_body
func hostReadBody(kind uint32, buf *byte, limit uint32) uint64

//go:wasmimport http_handler write_body
func hostWriteBody(kind uint32, body *byte, size uint32)

//go:wasmimport http_handler get_status_code
func hostGetStatusCode() uint32

//go:wasmimport http_handler set_status_code
func hostSetStatusCode(code uint32)

// scratch receives short host values; the guest runs one call at a time.
var scratch [2048]byte

// hostString reads a value through a get function that writes at most
// limit bytes and returns the value's length, asking again with a buffer
// of that length when the value did not fit.
func hostString(get func(buf *byte, limit uint32) uint32) string {
	n := get(&scratch[0], uint32(len(scratch)))
	if int(n) <= len(scratch) {
		return string(scratch[:n])
	}
	buf := make([]byte, n)
	n = get(&buf[0], n)
	return string(buf[:n])
}

// hostList reads a NUL-separated list (header names or values); countLen
// is the ABI's count<<32 | length.
func hostList(get func(buf *byte, limit uint32) uint64) []string {
	countLen := get(&scratch[0], uint32(len(scratch)))
	size := uint32(countLen)
	buf := scratch[:]
	if int(size) > len(scratch) {
		buf = make([]byte, size)
		countLen = get(&buf[0], size)
		size = uint32(countLen)
	}
	return splitNUL(buf[:size], int(countLen>>32))
}

// headerValue returns the first value of a header, "" when absent.
func headerValue(kind uint32, name string) string {
	values := hostList(func(buf *byte, limit uint32) uint64 {
		return hostGetHeaderValues(kind, name, buf, limit)
	})
	if len(values) == 0 {
		return ""
	}
	return values[0]
}

// headerNames returns the header names of kind, lower-cased by the host.
func headerNames(kind uint32) []string {
	return hostList(func(buf *byte, limit uint32) uint64 {
		return hostGetHeaderNames(kind, buf, limit)
	})
}

// readBody reads a body up to limit bytes and one more, so that a caller
// can tell a body over the limit; it stops at the end of the body.
func readBody(kind uint32, limit int) []byte {
	var body []byte
	chunk := make([]byte, 32<<10)
	for len(body) <= limit {
		eofLen := hostReadBody(kind, &chunk[0], uint32(len(chunk)))
		body = append(body, chunk[:uint32(eofLen)]...)
		if eofLen>>32 == 1 {
			break
		}
	}
	return body
}

// writeBody replaces the body of kind.
func writeBody(kind uint32, body []byte) {
	if len(body) == 0 {
		hostWriteBody(kind, nil, 0)
		return
	}
	hostWriteBody(kind, &body[0], uint32(len(body)))
}
