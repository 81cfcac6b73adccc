package core

// CommandTable lists every known command as platform, command, event, phase
// rows in a stable order, for documentation and tests.
func CommandTable() [][4]string {
	var rows [][4]string
	for _, p := range platforms {
		for name, c := range p.commands {
			rows = append(rows, [4]string{p.name, name, c.event, phaseOf(c.before)})
		}
	}
	sortRows(rows)
	return rows
}

// sortRows is an insertion sort: the slices package cannot sort under Yaegi and
// the table is small.
func sortRows(rows [][4]string) {
	for i := 1; i < len(rows); i++ {
		for j := i; j > 0 && lessRow(rows[j], rows[j-1]); j-- {
			rows[j], rows[j-1] = rows[j-1], rows[j]
		}
	}
}

func lessRow(a, b [4]string) bool {
	for k := 0; k < 4; k++ {
		if a[k] != b[k] {
			return a[k] < b[k]
		}
	}
	return false
}
