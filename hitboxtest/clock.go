package hitboxtest

import (
	"sync"
	"time"
)

// Clock is a fake clock the suite moves forward, so expiry is checked
// without sleeping. It is safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock that reads start until it is advanced.
func NewClock(start time.Time) *Clock {
	return &Clock{now: start.Round(0)} // no monotonic reading: only Advance moves it
}

// Now returns the clock's current time. Pass it to a backend's Now option.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
