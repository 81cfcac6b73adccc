package report

import "sort"

// Median returns the median of values (the mean of the middle two for an
// even count), or 0 for none. Medians keep one noisy repeat from moving the
// published number.
func Median(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	s := append([]float64(nil), values...)
	sort.Float64s(s)
	mid := len(s) / 2
	if len(s)%2 == 1 {
		return s[mid]
	}
	return (s[mid-1] + s[mid]) / 2
}
