package cache

// SetRand replaces the random source of c (jitter, early refresh), so
// tests draw a known sequence.
func SetRand[T any](c *Cache[T], r func() float64) { c.rand = r }

// XFetch exposes the early refresh rule to the statistical test.
var XFetch = xfetch

// SettleFront runs the front's pending maintenance (evictions) now, which
// otherwise runs on its worker a little later.
func SettleFront[T any](c *Cache[T]) { c.front.m.CleanUp() }

// SharedReadWaiters returns how many GetOrLoad callers wait on the backend
// read of key another caller is making.
func SharedReadWaiters[T any](c *Cache[T], key string) int { return c.reads.waiting(key) }

// LoadJoiners returns how many callers joined the load of key in progress.
func LoadJoiners[T any](c *Cache[T], key string) int { return c.flights.joined(key) }

// CoarseNow returns the time of the fronts' shared clock, in Unix
// nanoseconds.
func CoarseNow() int64 { return clock.now.Load() }
