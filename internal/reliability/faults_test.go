package reliability_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/hitbox-go/hitbox/internal/netfault"
	"github.com/hitbox-go/hitbox/internal/redistest"
)

// stallBound is the longest a user call may take under any network fault
// below. With clientOptions a GetOrLoad that misses L1 makes at most two
// Redis calls (the read, then the write of the loaded value), each tried
// once, each at most a dial (250ms) plus a reply (200ms): about 0.9s, and
// far less once the breaker opens. The bound is three times that, for a
// shared two-core machine under -race; the measured worst stalls are in
// the test log and in RELIABILITY.md.
const stallBound = 3 * time.Second

// breakerWant says what a fault must do to the L2 breaker.
type breakerWant int

const (
	mayOpen  breakerWant = iota // depends on how calls and failures interleave
	mustOpen                    // every call fails: five in a row open it
	// keepsAnswering: calls only slow down, well within the read timeout,
	// so L2 keeps answering under the fault. Whether the breaker stays
	// closed is not asserted: on a loaded machine a scheduling stall can
	// still push five calls in a row past the timeout.
	keepsAnswering
)

// TestNetworkFaults puts each fault between the client and the server, for
// a window, under a GetOrLoad load with 8 KiB values and writes, then heals
// it. For each: no user read fails or returns a wrong value, the worst
// read stays under stallBound, the breaker opens when every call fails and
// L2 keeps answering when calls merely slow down, and once the network
// heals the breaker closes and L2 answers again.
func TestNetworkFaults(t *testing.T) {
	srv := redistest.Start(t)
	p := netfault.Start(t, srv.Addr)
	for _, tc := range []struct {
		name    string
		fault   func()
		breaker breakerWant
	}{
		// 20ms each way keeps a call well under the 200ms read timeout.
		{"latency under the read timeout", func() { p.Set(netfault.Faults{Latency: 20 * time.Millisecond}) }, keepsAnswering},
		{"latency over the read timeout", func() { p.Set(netfault.Faults{Latency: 400 * time.Millisecond}) }, mustOpen},
		// 32 KiB/s: an 8 KiB reply takes a quarter second, over the
		// read timeout: hits time out, short replies (misses) get through.
		{"bandwidth cap", func() { p.Set(netfault.Faults{Bandwidth: 32 << 10}) }, mayOpen},
		{"replies reset midway", func() { p.Set(netfault.Faults{ResetRate: 0.5}) }, mayOpen},
		{"black hole", func() { p.Set(netfault.Faults{BlackHole: true}) }, mustOpen},
		// Only the connections open at the time are cut; new ones work.
		{"half-open links", p.HalfOpen, mayOpen},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := goleak.IgnoreCurrent()
			client := redis.NewClient(clientOptions(p.Addr))
			in := newInstance(t, "app", client, false, 100*time.Millisecond)
			ins := []*instance{in}
			src := newSource(8 << 10)
			l := startLoad(t, src, ins, keys(t, 200), 4)
			waitFor(t, time.Minute, "warm-up", func() error {
				if _, _, _, hits, _ := l2Stats(ins); hits < 100 {
					return fmt.Errorf("%d L2 hits", hits)
				}
				return nil
			})

			l.resetWorst()
			reads0 := l.reads.Load()
			_, _, _, hitsBefore, _ := l2Stats(ins)
			tc.fault()
			// The fault lasts until the load has lived through it: 300
			// reads, and for a fault that fails every call, a breaker
			// that opened, probed after its cool-down and opened again.
			waitFor(t, time.Minute, "the load under the fault", func() error {
				if n := l.reads.Load() - reads0; n < 300 {
					return fmt.Errorf("%d reads under the fault", n)
				}
				if opens, _, _, _, _ := l2Stats(ins); tc.breaker == mustOpen && opens < 2 {
					return fmt.Errorf("the breaker opened %d times", opens)
				}
				return nil
			})
			underFault := time.Duration(l.worstRead.Load())
			opens, errs, skipped, hitsUnder, _ := l2Stats(ins)

			p.Set(netfault.Faults{})
			_, _, _, hits0, _ := l2Stats(ins)
			healed := waitFor(t, time.Minute, "L2 answers again", func() error {
				_, _, _, hits, open := l2Stats(ins)
				if open > 0 || hits == hits0 {
					return errors.New("breaker open or no L2 hit yet")
				}
				return nil
			})
			l.Stop()

			t.Logf("under the fault: worst read %v; L2 breaker opened %d times, %d L2 errors, %d calls skipped",
				underFault.Round(time.Millisecond), opens, errs, skipped)
			t.Logf("after healing: L2 answers again in %v; whole run: %s", healed.Round(time.Millisecond), l)
			l.checkReads(t)
			if w := time.Duration(l.maxRead.Load()); w > stallBound {
				t.Errorf("worst read %v, over the %v bound", w, stallBound)
			}
			switch {
			case tc.breaker == mustOpen && opens < 1:
				t.Errorf("every call failed and the breaker never opened")
			case tc.breaker == keepsAnswering && hitsUnder == hitsBefore:
				t.Errorf("calls only slowed down and L2 answered none (%d errors, breaker opened %d times)", errs, opens)
			}
			if err := in.Close(); err != nil {
				t.Error(err)
			}
			verifyNone(t, before)
		})
	}
}
