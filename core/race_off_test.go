//go:build !race
// +build !race

package core_test

// raceDetector: see race_on_test.go.
const raceDetector = false
