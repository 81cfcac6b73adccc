package build

// The two functions LowerBulkMemory adds, as WebAssembly function bodies.
// Both have type (i32, i32, i32) -> (), the operands of the instruction
// they replace in the same order, and use only loads, stores and
// arithmetic: wazero compiles them to machine code that never leaves the
// guest. They move 8 bytes per iteration, then the remaining bytes one at
// a time. Out-of-bounds addresses trap at the first access, as the
// instructions do (the instructions check before writing anything; the
// guest dies of the trap either way).

// WebAssembly opcodes the bodies use.
const (
	wBlock    = 0x02
	wLoop     = 0x03
	wIf       = 0x04
	wElse     = 0x05
	wEnd      = 0x0b
	wBr       = 0x0c
	wBrIf     = 0x0d
	wEmpty    = 0x40 // block type: no result
	wLocalGet = 0x20
	wLocalSet = 0x21
	wI32Const = 0x41
	wI64Const = 0x42
	wI64Load  = 0x29
	wI32Load8 = 0x2d // i32.load8_u
	wI64Store = 0x37
	wI32Store = 0x3a // i32.store8
	wI32Eqz   = 0x45
	wI32LtU   = 0x49
	wI32GeU   = 0x4f
	wI32Add   = 0x6a
	wI32Sub   = 0x6b
	wI32And   = 0x71
	wI64Mul   = 0x7e
	wI64ExtU  = 0xad // i64.extend_i32_u
	wTypeI64  = 0x7e
)

// Parameters: dst, src (or the fill byte), n; the fill's pattern local.
const (
	pDst     = 0
	pSrc     = 1
	pVal     = 1
	pN       = 2
	lPattern = 3
)

// code assembles a body from opcodes and already-encoded immediates.
func code(parts ...any) []byte {
	var out []byte
	for _, p := range parts {
		switch v := p.(type) {
		case int:
			out = append(out, byte(v))
		case []byte:
			out = append(out, v...)
		}
	}
	return out
}

// memarg is the memory immediate of a load or store: no alignment
// promise (any address is valid), offset 0.
var memarg = []byte{0, 0}

func addConst(local, k int) []byte {
	return code(wLocalGet, local, wI32Const, sleb(int64(k)), wI32Add, wLocalSet, local)
}

func subConst(local, k int) []byte {
	return code(wLocalGet, local, wI32Const, sleb(int64(k)), wI32Sub, wLocalSet, local)
}

// whileAtLeast loops over body while n >= k (k = 1: while n != 0).
func whileAtLeast(k int, body ...any) []byte {
	exit := code(wLocalGet, pN, wI32Const, sleb(int64(k)), wI32LtU, wBrIf, 1)
	if k == 1 {
		exit = code(wLocalGet, pN, wI32Eqz, wBrIf, 1)
	}
	return code(wBlock, wEmpty, wLoop, wEmpty, exit, code(body...), wBr, 0, wEnd, wEnd)
}

// memoryCopyBody is memory.copy(dst, src, n), memmove semantics: when dst
// is not inside [src, src+n) it copies forward, else backward from the
// end, so overlapping ranges copy as if through a buffer.
var memoryCopyBody = code(
	0, // no locals
	wLocalGet, pDst, wLocalGet, pSrc, wI32Sub, wLocalGet, pN, wI32GeU,
	wIf, wEmpty,
	whileAtLeast(8,
		wLocalGet, pDst, wLocalGet, pSrc, wI64Load, memarg, wI64Store, memarg,
		addConst(pDst, 8), addConst(pSrc, 8), subConst(pN, 8)),
	whileAtLeast(1,
		wLocalGet, pDst, wLocalGet, pSrc, wI32Load8, memarg, wI32Store, memarg,
		addConst(pDst, 1), addConst(pSrc, 1), subConst(pN, 1)),
	wElse,
	whileAtLeast(8,
		subConst(pN, 8),
		wLocalGet, pDst, wLocalGet, pN, wI32Add,
		wLocalGet, pSrc, wLocalGet, pN, wI32Add, wI64Load, memarg, wI64Store, memarg),
	whileAtLeast(1,
		subConst(pN, 1),
		wLocalGet, pDst, wLocalGet, pN, wI32Add,
		wLocalGet, pSrc, wLocalGet, pN, wI32Add, wI32Load8, memarg, wI32Store, memarg),
	wEnd,
	wEnd,
)

// memoryFillBody is memory.fill(dst, val, n): the low byte of val,
// repeated.
var memoryFillBody = code(
	1, 1, wTypeI64, // one i64 local: the byte repeated 8 times
	wLocalGet, pVal, wI32Const, sleb(0xff), wI32And, wI64ExtU,
	wI64Const, sleb(0x0101010101010101), wI64Mul, wLocalSet, lPattern,
	whileAtLeast(8,
		wLocalGet, pDst, wLocalGet, lPattern, wI64Store, memarg,
		addConst(pDst, 8), subConst(pN, 8)),
	whileAtLeast(1,
		wLocalGet, pDst, wLocalGet, pVal, wI32Store, memarg,
		addConst(pDst, 1), subConst(pN, 1)),
	wEnd,
)
