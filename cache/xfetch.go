package cache

import (
	"math"
	"time"
)

// early reports whether a fresh hit should start an early refresh, by the
// XFetch rule (see Options.EarlyRefresh).
func (c *Cache[T]) early(h hit[T]) bool {
	beta := c.opts.EarlyRefresh
	if beta <= 0 || h.until == 0 {
		return false
	}
	delta := c.loadNs.Load()
	if delta <= 0 {
		return false // no load measured yet
	}
	return xfetch(float64(h.until-h.now), float64(delta)*beta, c.rand)
}

// xfetch is the rule of Vattani, Chierichetti and Lowenstein: refresh when
// now - delta*beta*ln(u) >= expiry, u uniform in (0, 1], that is with
// probability exp(-gap/scale) for gap = expiry - now and scale =
// delta*beta. Far from expiry that probability is below e^-40, and no
// random number is drawn.
func xfetch(gap, scale float64, u func() float64) bool {
	if gap <= 0 {
		return true
	}
	if gap > 40*scale {
		return false
	}
	return -scale*math.Log(1-u()) >= gap // 1-u is in (0, 1]
}

// observe folds the duration of a load into the moving average early
// refresh uses for delta, weighting the newest load by 1/8.
func (c *Cache[T]) observe(d time.Duration) {
	if d <= 0 {
		return
	}
	old := c.loadNs.Load()
	if old == 0 {
		c.loadNs.Store(int64(d))
		return
	}
	c.loadNs.Store(old + (int64(d)-old)/8)
}
