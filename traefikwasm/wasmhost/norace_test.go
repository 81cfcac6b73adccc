//go:build !race

package wasmhost

// raceEnabled: see race_test.go.
const raceEnabled = false
