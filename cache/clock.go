package cache

import (
	"sync"
	"sync/atomic"
	"time"
)

// clockResolution is how often the fronts' shared clock reads the time:
// the most a front hit's judgement of freshness lags the real time (see
// Front).
const clockResolution = time.Millisecond

// coarseClock is the time, in Unix nanoseconds, as read at its last tick:
// a front hit loads it instead of reading the system clock, which costs a
// hit as much as the rest of it. One clock serves every front of the
// process: the first front to open starts its ticker, the last to close
// stops it, so no goroutine outlives the fronts and the process wakes
// once per resolution however many fronts it has.
type coarseClock struct {
	now atomic.Int64

	mu    sync.Mutex // guards users, stop and done
	users int
	stop  chan struct{}
	done  chan struct{}
}

// clock is the process's coarse clock.
var clock coarseClock

// acquire counts a user of the clock, starting its ticker for the first.
// The time is read before acquire returns, so a new front never sees a
// clock older than itself.
func (c *coarseClock) acquire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.users++
	if c.users > 1 {
		return
	}
	c.now.Store(time.Now().UnixNano())
	c.stop, c.done = make(chan struct{}), make(chan struct{})
	go c.tick(c.stop, c.done)
}

// release ends a use of the clock, stopping its ticker after the last
// and waiting for it to return.
func (c *coarseClock) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.users--
	if c.users > 0 {
		return
	}
	close(c.stop)
	<-c.done
}

func (c *coarseClock) tick(stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(clockResolution)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			c.now.Store(time.Now().UnixNano())
		}
	}
}
