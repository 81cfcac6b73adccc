package build

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Why plugin.wasm carries no bulk-memory instruction.
//
// Traefik v3.7.9 runs WASM plugins on wazero v1.8.0. Its amd64 compiler
// lowers memory.copy and memory.fill (and memory.init and the table
// copies) to a direct call of the host's Go runtime.memmove, and keeps
// guest values in RDX across that call. Go 1.24 and later clobber RDX in
// memmove on its REP MOVSQ path, which Go 1.26 takes for forward copies of
// 2 KiB or more on Intel CPUs with ERMS and FSRM and on CPUs without AVX,
// and Traefik v3.7.9 is built with Go 1.26. A Go guest's memmove and memclr are single
// memory.copy and memory.fill instructions, and every large allocation and
// span reuse zeroes memory, so after a few thousand requests a guest value
// in RDX is overwritten: the Go heap's metadata is corrupted and the
// instance traps ("out of bounds memory access", "unreachable" after a
// runtime throw), which Traefik answers with HTTP 500. wazero v1.9.0 marks
// RDX clobbered (amd64 machine.go lowerCall); until Traefik ships it, the
// plugin must not execute those instructions. LowerBulkMemory replaces
// each memory.copy and memory.fill with a call of a function written with
// plain loads and stores, which wazero compiles without calling into the
// host.

// ErrModule marks a WASM module LowerBulkMemory cannot rewrite.
var ErrModule = errors.New("wasm module")

// Names of the functions LowerBulkMemory adds, in the module's name
// section (they appear in wazero's stack traces).
const (
	copyFuncName = "imgate.memory_copy"
	fillFuncName = "imgate.memory_fill"
)

// Section ids and opcodes LowerBulkMemory reads or writes.
const (
	sectionCustom   = 0
	sectionType     = 1
	sectionImport   = 2
	sectionFunction = 3
	sectionCode     = 10

	opCall       = 0x10
	opPrefixFC   = 0xfc
	opPrefixSIMD = 0xfd

	fcMemoryInit = 8
	fcMemoryCopy = 10
	fcMemoryFill = 11
	fcTableInit  = 12
	fcTableCopy  = 14
	fcTableFill  = 17
)

// LowerBulkMemory returns module with every memory.copy and memory.fill
// replaced by a call of an added function that does the same with plain
// loads and stores (see the comment above). It refuses a module that
// uses memory.init or a table copy or fill (wazero v1.8.0 lowers those to
// memmove too, and the Go toolchain emits none) and any instruction it
// does not know, so it never passes an instruction through unread.
func LowerBulkMemory(module []byte) ([]byte, error) {
	m, err := parseModule(module)
	if err != nil {
		return nil, err
	}
	if n, err := m.countBulkMemory(); err != nil {
		return nil, err
	} else if n == 0 {
		return module, nil
	}
	typeIdx, types, err := ensureType(m.section(sectionType), []byte{0x60, 3, 0x7f, 0x7f, 0x7f, 0})
	if err != nil {
		return nil, err
	}
	imported, err := importedFuncs(m.section(sectionImport))
	if err != nil {
		return nil, err
	}
	funcs, defined, err := appendFuncs(m.section(sectionFunction), typeIdx, 2)
	if err != nil {
		return nil, err
	}
	copyIdx, fillIdx := imported+defined, imported+defined+1
	code, err := rewriteCode(m.section(sectionCode), copyIdx, fillIdx)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.Write(module[:8])
	for _, s := range m.sections {
		content := s.content
		switch {
		case s.id == sectionType:
			content = types
		case s.id == sectionFunction:
			content = funcs
		case s.id == sectionCode:
			content = code
		case s.id == sectionCustom && s.name == "name":
			content = addFuncNames(s.content, map[uint32]string{copyIdx: copyFuncName, fillIdx: fillFuncName})
		}
		out.WriteByte(s.id)
		out.Write(uleb(uint64(len(content))))
		out.Write(content)
	}
	return out.Bytes(), nil
}

// CountBulkMemory returns how many instructions in module's code wazero
// v1.8.0 would lower to a call of the host's memmove: zero in a plugin
// that is safe to run in Traefik v3.7.9.
func CountBulkMemory(module []byte) (int, error) {
	m, err := parseModule(module)
	if err != nil {
		return 0, err
	}
	return m.countBulkMemory()
}

func (m *module) countBulkMemory() (int, error) {
	count := 0
	err := walkCode(m.section(sectionCode), func(op byte, sub uint32) {
		if op == opPrefixFC && memmoveOp(sub) {
			count++
		}
	})
	return count, err
}

func memmoveOp(sub uint32) bool {
	switch sub {
	case fcMemoryInit, fcMemoryCopy, fcMemoryFill, fcTableInit, fcTableCopy, fcTableFill:
		return true
	}
	return false
}

type section struct {
	id      byte
	name    string // custom sections only
	content []byte
}

type module struct{ sections []section }

func (m *module) section(id byte) []byte {
	for _, s := range m.sections {
		if s.id == id {
			return s.content
		}
	}
	return nil
}

func parseModule(data []byte) (*module, error) {
	if len(data) < 8 || !bytes.Equal(data[:4], []byte("\x00asm")) || binary.LittleEndian.Uint32(data[4:8]) != 1 {
		return nil, fmt.Errorf("not a WebAssembly 1.0 binary: %w", ErrModule)
	}
	m := &module{}
	r := reader{data: data, pos: 8}
	for r.pos < len(data) {
		id := r.byte()
		size := r.u32()
		content := r.bytes(int(size))
		if r.err != nil {
			return nil, fmt.Errorf("section %d: %w", id, r.err)
		}
		s := section{id: id, content: content}
		if id == sectionCustom {
			cr := reader{data: content}
			s.name = string(cr.bytes(int(cr.u32())))
		}
		m.sections = append(m.sections, s)
	}
	return m, nil
}

// ensureType returns the index of functype in the type section, adding
// it when absent, and the section's new content.
func ensureType(types []byte, functype []byte) (uint32, []byte, error) {
	r := reader{data: types}
	count := r.u32()
	entries := r.pos
	for i := uint32(0); i < count && r.err == nil; i++ {
		start := r.pos
		if r.byte() != 0x60 {
			return 0, nil, fmt.Errorf("type %d is not a function type: %w", i, ErrModule)
		}
		r.skip(int(r.u32())) // params: one byte each
		r.skip(int(r.u32())) // results
		if r.err == nil && bytes.Equal(types[start:r.pos], functype) {
			return i, types, nil
		}
	}
	if r.err != nil {
		return 0, nil, fmt.Errorf("type section: %w", r.err)
	}
	out := append(uleb(uint64(count)+1), types[entries:]...)
	return count, append(out, functype...), nil
}

// importedFuncs counts the function imports, which come first in the
// function index space.
func importedFuncs(imports []byte) (uint32, error) {
	if imports == nil {
		return 0, nil
	}
	r := reader{data: imports}
	count := r.u32()
	funcs := uint32(0)
	for i := uint32(0); i < count && r.err == nil; i++ {
		r.skip(int(r.u32())) // module
		r.skip(int(r.u32())) // name
		switch kind := r.byte(); kind {
		case 0: // func: type index
			r.u32()
			funcs++
		case 1: // table: reftype, limits
			r.byte()
			r.limits()
		case 2: // memory: limits
			r.limits()
		case 3: // global: valtype, mutability
			r.byte()
			r.byte()
		default:
			return 0, fmt.Errorf("import %d has kind %d: %w", i, kind, ErrModule)
		}
	}
	if r.err != nil {
		return 0, fmt.Errorf("import section: %w", r.err)
	}
	return funcs, nil
}

// appendFuncs adds n functions of type typeIdx to the function section
// and returns its new content and the number of functions it had.
func appendFuncs(funcs []byte, typeIdx uint32, n int) ([]byte, uint32, error) {
	r := reader{data: funcs}
	count := r.u32()
	if r.err != nil {
		return nil, 0, fmt.Errorf("function section: %w", r.err)
	}
	out := append(uleb(uint64(count)+uint64(n)), funcs[r.pos:]...)
	for i := 0; i < n; i++ {
		out = append(out, uleb(uint64(typeIdx))...)
	}
	return out, count, nil
}

// rewriteCode replaces memory.copy and memory.fill in every body with
// calls of copyIdx and fillIdx and appends those two functions' bodies.
func rewriteCode(code []byte, copyIdx, fillIdx uint32) ([]byte, error) {
	r := reader{data: code}
	count := r.u32()
	out := uleb(uint64(count) + 2)
	callCopy := append([]byte{opCall}, uleb(uint64(copyIdx))...)
	callFill := append([]byte{opCall}, uleb(uint64(fillIdx))...)
	for i := uint32(0); i < count; i++ {
		body := r.bytes(int(r.u32()))
		if r.err != nil {
			return nil, fmt.Errorf("code section, function %d: %w", i, r.err)
		}
		var rewritten []byte
		last := 0
		err := walkBody(body, func(at, end int, op byte, sub uint32) error {
			if op != opPrefixFC || !memmoveOp(sub) {
				return nil
			}
			var call []byte
			switch sub {
			case fcMemoryCopy:
				call = callCopy
			case fcMemoryFill:
				call = callFill
			default:
				return fmt.Errorf("instruction 0xfc %d (memory.init or a table copy or fill) would call the host's memmove, and has no lowering: %w", sub, ErrModule)
			}
			rewritten = append(append(rewritten, body[last:at]...), call...)
			last = end
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("code section, function %d: %w", i, err)
		}
		if rewritten != nil {
			body = append(rewritten, body[last:]...)
		}
		out = append(out, uleb(uint64(len(body)))...)
		out = append(out, body...)
	}
	for _, body := range [][]byte{memoryCopyBody, memoryFillBody} {
		out = append(out, uleb(uint64(len(body)))...)
		out = append(out, body...)
	}
	return out, nil
}

// walkCode calls visit for every instruction of every body.
func walkCode(code []byte, visit func(op byte, sub uint32)) error {
	if code == nil {
		return nil
	}
	r := reader{data: code}
	count := r.u32()
	for i := uint32(0); i < count; i++ {
		body := r.bytes(int(r.u32()))
		if r.err != nil {
			return fmt.Errorf("code section, function %d: %w", i, r.err)
		}
		err := walkBody(body, func(_, _ int, op byte, sub uint32) error {
			visit(op, sub)
			return nil
		})
		if err != nil {
			return fmt.Errorf("code section, function %d: %w", i, err)
		}
	}
	return r.err
}

// walkBody decodes a function body (locals, then instructions) and calls
// visit with each instruction's span, opcode and, for prefixed opcodes,
// sub-opcode. An opcode it does not know is an error.
func walkBody(body []byte, visit func(at, end int, op byte, sub uint32) error) error {
	r := reader{data: body}
	for n := r.u32(); n > 0 && r.err == nil; n-- {
		r.u32()  // count
		r.byte() // valtype
	}
	for r.pos < len(body) && r.err == nil {
		at := r.pos
		op := r.byte()
		sub := uint32(0)
		switch {
		case op <= 0x01 || op == 0x05 || op == 0x0b || op == 0x0f || op == 0x1a || op == 0x1b || op == 0xd1:
			// no immediate
		case op >= 0x02 && op <= 0x04: // block, loop, if
			r.blockType()
		case op == 0x0c || op == 0x0d || op == 0x10 || op == 0x12 || op == 0xd2 || (op >= 0x20 && op <= 0x26):
			r.u32() // label, function, local, global or table index
		case op == 0x0e: // br_table
			for n := r.u32(); n > 0 && r.err == nil; n-- {
				r.u32()
			}
			r.u32()
		case op == 0x11 || op == 0x13: // call_indirect, return_call_indirect
			r.u32()
			r.u32()
		case op == 0x1c: // select with types
			r.skip(int(r.u32()))
		case op >= 0x28 && op <= 0x3e: // loads and stores: memarg
			r.u32()
			r.u32()
		case op == 0x3f || op == 0x40: // memory.size, memory.grow
			r.u32()
		case op == 0x41:
			r.sleb()
		case op == 0x42:
			r.sleb()
		case op == 0x43:
			r.skip(4)
		case op == 0x44:
			r.skip(8)
		case op >= 0x45 && op <= 0xc4: // numeric and sign extension
		case op == 0xd0: // ref.null
			r.byte()
		case op == opPrefixFC:
			sub = r.u32()
			switch {
			case sub <= 7: // saturating truncations
			case sub == fcMemoryInit || sub == fcMemoryCopy || sub == fcTableInit || sub == fcTableCopy:
				r.u32()
				r.u32()
			case sub == 9 || sub == fcMemoryFill || sub == 13 || (sub >= 15 && sub <= fcTableFill):
				r.u32()
			default:
				return fmt.Errorf("unknown instruction 0xfc %d at byte %d: %w", sub, at, ErrModule)
			}
		default:
			return fmt.Errorf("unknown or unsupported opcode 0x%02x at byte %d: %w", op, at, ErrModule)
		}
		if r.err != nil {
			break
		}
		if err := visit(at, r.pos, op, sub); err != nil {
			return err
		}
	}
	return r.err
}

// addFuncNames adds names to the function-names subsection of a "name"
// custom section's content; the new indices are above every named one,
// so the subsection stays sorted. A section it cannot read is returned
// unchanged: names only label stack traces.
func addFuncNames(content []byte, names map[uint32]string) []byte {
	r := reader{data: content}
	r.skip(int(r.u32())) // "name"
	out := append([]byte(nil), content[:r.pos]...)
	for r.pos < len(content) && r.err == nil {
		id := r.byte()
		sub := r.bytes(int(r.u32()))
		if r.err != nil {
			return content
		}
		if id == 1 {
			sr := reader{data: sub}
			n := sr.u32()
			var entries []byte
			entries = append(entries, sub[sr.pos:]...)
			for _, idx := range sortedKeys(names) {
				entries = append(entries, uleb(uint64(idx))...)
				entries = append(entries, uleb(uint64(len(names[idx])))...)
				entries = append(entries, names[idx]...)
			}
			sub = append(uleb(uint64(n)+uint64(len(names))), entries...)
		}
		out = append(out, id)
		out = append(out, uleb(uint64(len(sub)))...)
		out = append(out, sub...)
	}
	if r.err != nil {
		return content
	}
	return out
}

func sortedKeys(m map[uint32]string) []uint32 {
	keys := make([]uint32, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}
