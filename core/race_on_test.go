//go:build race
// +build race

package core_test

// raceDetector is true when the tests run under -race, which slows the
// code itself several times: timing allowances that absorb scheduling
// noise scale with it.
const raceDetector = true
