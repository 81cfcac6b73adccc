package traefikreal

import (
	"fmt"

	"github.com/imgate/imgate/internal/procstat"
)

// Goroutines returns the number of goroutines of the Traefik process, read
// from its goroutine profile (api.debug): Options.Debug must be on.
func (tr *Traefik) Goroutines() (int, error) {
	if !tr.opts.Debug {
		return 0, fmt.Errorf("counting goroutines needs Options.Debug (api.debug): %w", ErrTraefik)
	}
	return procstat.Goroutines(tr.client, tr.APIURL)
}

// RSS returns the Traefik process's resident memory in bytes.
func (tr *Traefik) RSS() (int64, error) { return procstat.RSS(tr.Pid()) }
