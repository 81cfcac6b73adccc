// Package soak holds the parts of the soak and fault run
// (bench/cmd/soak) that can be tested without a gateway: the timelines of
// what changes under load (list file versions, configuration epochs,
// upstream states), the list files whose probe users change membership
// with every version, the callbacks and the replies each must get, the
// statistics and the report with its pass/fail verdicts.
package soak
