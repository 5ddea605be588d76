// Package pauses notes the times a test process itself did not run, so a
// long call can be told apart from a slow cache: a goroutine that only
// sleeps a short tick at a time and wakes up much later than asked was
// held too (the machine's cores busy with other work, a GC pause), and so
// was every call in flight then.
//
//	var ps []pauses.Pause
//	done := make(chan struct{})
//	go func() { ps = pauses.Watch(ctx); close(done) }()
//	// ... the load, until ctx ends ...
//	<-done
//	for _, p := range ps {
//		t.Logf("paused %v at %v", p.Late, p.At)
//	}
package pauses

import (
	"context"
	"time"
)

// Tick and Min tune Watch: it sleeps Tick at a time and notes every
// wake-up later than Min.
const (
	Tick = 5 * time.Millisecond
	Min  = 50 * time.Millisecond
)

// Pause is a time the process did not run: a goroutine that slept Tick
// from At woke up Late after it should have.
type Pause struct {
	At   time.Time
	Late time.Duration
}

// Watch notes, until ctx ends, every pause longer than Min, and returns
// them in order.
func Watch(ctx context.Context) []Pause {
	var out []Pause
	t := time.NewTimer(Tick)
	defer t.Stop()
	for {
		from := time.Now()
		t.Reset(Tick)
		select {
		case <-ctx.Done():
			return out
		case <-t.C:
		}
		if late := time.Since(from) - Tick; late > Min {
			out = append(out, Pause{At: from, Late: late})
		}
	}
}

// During returns the pauses of ps that overlap [from, to] and their total.
func During(ps []Pause, from, to time.Time) ([]Pause, time.Duration) {
	var out []Pause
	var sum time.Duration
	for _, p := range ps {
		end := p.At.Add(Tick + p.Late)
		if end.Before(from) || p.At.After(to) {
			continue
		}
		out = append(out, p)
		sum += p.Late
	}
	return out, sum
}
