package build

import (
	"bytes"
	"context"
	"errors"
	"math/rand"
	"path/filepath"
	"testing"

	"github.com/tetratelabs/wazero"
)

// testModule is a module with one exported page of memory and two
// exported functions, "copy" and "fill", each (i32, i32, i32) -> ()
// executing body: the instruction under test applied to its three
// parameters.
func testModule(copyBody, fillBody []byte) []byte {
	sec := func(id byte, content ...[]byte) []byte {
		c := bytes.Join(content, nil)
		return append(append([]byte{id}, uleb(uint64(len(c)))...), c...)
	}
	str := func(s string) []byte { return append(uleb(uint64(len(s))), s...) }
	fn := func(instr []byte) []byte {
		body := code(0, wLocalGet, 0, wLocalGet, 1, wLocalGet, 2, instr, wEnd)
		return append(uleb(uint64(len(body))), body...)
	}
	return bytes.Join([][]byte{
		[]byte("\x00asm\x01\x00\x00\x00"),
		sec(sectionType, []byte{1, 0x60, 3, 0x7f, 0x7f, 0x7f, 0}),
		sec(sectionFunction, []byte{2, 0, 0}),
		sec(5, []byte{1, 0, 1}), // memory: min 1 page
		sec(7, []byte{3}, str("copy"), []byte{0, 0}, str("fill"), []byte{0, 1}, str("memory"), []byte{2, 0}),
		sec(sectionCode, []byte{2}, fn(copyBody), fn(fillBody)),
		sec(sectionCustom, str("name"), []byte{1}, uleb(uint64(len(str("copy"))+len(str("fill"))+3)), []byte{2, 0}, str("copy"), []byte{1}, str("fill")),
	}, nil)
}

var (
	instrMemoryCopy = []byte{opPrefixFC, fcMemoryCopy, 0, 0}
	instrMemoryFill = []byte{opPrefixFC, fcMemoryFill, 0}
)

// TestLoweredSemantics runs the added functions in wazero's compiler (the
// engine Traefik uses) against Go's copy and a byte loop: forward and
// backward overlaps, every small size and alignment, sizes around the
// 8-byte step, large copies, fills of every byte value, and
// out-of-bounds ranges, which must trap as the instructions do.
func TestLoweredSemantics(t *testing.T) {
	original := testModule(instrMemoryCopy, instrMemoryFill)
	lowered, err := LowerBulkMemory(original)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := CountBulkMemory(original); err != nil || n != 2 {
		t.Fatalf("original: %d bulk-memory instructions (%v), want 2", n, err)
	}
	if n, err := CountBulkMemory(lowered); err != nil || n != 0 {
		t.Fatalf("lowered: %d bulk-memory instructions (%v), want 0", n, err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler())
	defer rt.Close(ctx)
	mod, err := rt.Instantiate(ctx, lowered)
	if err != nil {
		t.Fatal(err)
	}
	mem := mod.Memory()
	const size = 1 << 16
	want := make([]byte, size)
	reset := func(seed int64) {
		rand.New(rand.NewSource(seed)).Read(want)
		mem.Write(0, want)
	}
	check := func(what string) {
		t.Helper()
		got, _ := mem.Read(0, size)
		if !bytes.Equal(got, want) {
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%s: memory differs first at byte %d: got %d, want %d", what, i, got[i], want[i])
				}
			}
		}
	}
	type op struct{ dst, src, n int }
	var copies []op
	for n := 0; n <= 40; n++ {
		for _, d := range []int{-17, -9, -8, -7, -1, 0, 1, 7, 8, 9, 17, 100} {
			copies = append(copies, op{1000 + d, 1000, n}, op{1003 + d, 1003, n})
		}
	}
	copies = append(copies, op{0, 4096, 8192}, op{4096, 0, 8192}, op{5, 4099, 30001}, op{4099, 5, 30001}, op{0, 1, size - 1}, op{1, 0, size - 1}, op{size, 0, 0}, op{0, size, 0})
	copyFn, fillFn := mod.ExportedFunction("copy"), mod.ExportedFunction("fill")
	for i, c := range copies {
		reset(int64(i))
		copy(want[c.dst:c.dst+c.n], want[c.src:c.src+c.n])
		if _, err := copyFn.Call(ctx, uint64(c.dst), uint64(c.src), uint64(c.n)); err != nil {
			t.Fatalf("copy %+v: %v", c, err)
		}
		check("copy")
	}
	for i, val := range []int{0, 1, 0x7f, 0x80, 0xff, 0x1ab, -1} {
		for _, f := range []op{{0, 0, 0}, {3, 0, 1}, {5, 0, 7}, {9, 0, 8}, {11, 0, 9}, {64, 0, 4096}, {1, 0, 12345}, {0, 0, size}} {
			reset(int64(i))
			for j := f.dst; j < f.dst+f.n; j++ {
				want[j] = byte(val)
			}
			if _, err := fillFn.Call(ctx, uint64(f.dst), uint64(uint32(val)), uint64(f.n)); err != nil {
				t.Fatalf("fill %+v with %d: %v", f, val, err)
			}
			check("fill")
		}
	}
	for _, c := range []op{{size - 3, 0, 4}, {0, size - 3, 4}, {0, 0, size + 1}, {-1, 0, 1}} {
		if _, err := copyFn.Call(ctx, uint64(uint32(c.dst)), uint64(c.src), uint64(c.n)); err == nil {
			t.Errorf("copy %+v out of bounds did not trap", c)
		}
	}
	for _, f := range []op{{size - 3, 0, 4}, {0, 0, size + 1}} {
		if _, err := fillFn.Call(ctx, uint64(f.dst), 0, uint64(f.n)); err == nil {
			t.Errorf("fill %+v out of bounds did not trap", f)
		}
	}
}

// TestLowerRefuses: what the lowering cannot rewrite safely is an error,
// never passed through.
func TestLowerRefuses(t *testing.T) {
	memoryInit := []byte{opPrefixFC, fcMemoryInit, 0, 0}
	simd := []byte{opPrefixSIMD, 12} // v128.const without its immediate
	for name, module := range map[string][]byte{
		"memory.init":  testModule(memoryInit, instrMemoryFill),
		"simd":         testModule(simd, instrMemoryFill),
		"truncated":    testModule(instrMemoryCopy, instrMemoryFill)[:40],
		"not wasm":     []byte("#!/bin/sh\n"),
		"fc unknown":   testModule([]byte{opPrefixFC, 99}, instrMemoryFill),
		"bad leb size": append([]byte("\x00asm\x01\x00\x00\x00\x01"), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
	} {
		if _, err := LowerBulkMemory(module); !errors.Is(err, ErrModule) && !errors.Is(err, errTruncated) {
			t.Errorf("%s: err %v, want ErrModule", name, err)
		}
	}
	clean := testModule([]byte{0x01}, []byte{0x01}) // nop
	if out, err := LowerBulkMemory(clean); err != nil || !bytes.Equal(out, clean) {
		t.Errorf("a module without bulk memory changed (err %v)", err)
	}
}

// TestLowerPlugin lowers the real plugin as the Go toolchain builds it:
// it has bulk-memory instructions (the runtime's memmove and memclr are
// one each), none is left, the module still validates and compiles in
// wazero, the added functions are named in the name section, and
// lowering again changes nothing.
func TestLowerPlugin(t *testing.T) {
	out := filepath.Join(t.TempDir(), "plain.wasm")
	if err := compile(out); err != nil {
		t.Fatal(err)
	}
	plain := readFile(t, out)
	before, err := CountBulkMemory(plain)
	if err != nil || before == 0 {
		t.Fatalf("the Go build has %d bulk-memory instructions (%v); the lowering has nothing to prove", before, err)
	}
	lowered, err := LowerBulkMemory(plain)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := CountBulkMemory(lowered); err != nil || n != 0 {
		t.Fatalf("%d bulk-memory instructions left (%v)", n, err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler())
	defer rt.Close(ctx)
	compiled, err := rt.CompileModule(ctx, lowered)
	if err != nil {
		t.Fatalf("the lowered plugin does not compile: %v", err)
	}
	names := compiled.ExportedFunctions()
	if _, ok := names["handle_request"]; !ok {
		t.Error("handle_request is no longer exported")
	}
	for _, name := range []string{copyFuncName, fillFuncName} {
		if !bytes.Contains(lowered, []byte(name)) {
			t.Errorf("%s is not in the name section", name)
		}
	}
	again, err := LowerBulkMemory(lowered)
	if err != nil || !bytes.Equal(again, lowered) {
		t.Errorf("lowering twice changed the module (err %v)", err)
	}
	t.Logf("lowered %d bulk-memory instructions; %d -> %d bytes", before, len(plain), len(lowered))
}
