package netfault_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/hitbox-go/hitbox/internal/netfault"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// echo runs a server that sends back what it reads, and tells on eof when
// a connection of its ends (the proxy left).
func echo(t *testing.T) (addr string, eof <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 16)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
				ch <- struct{}{}
			})
		}
	})
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().String(), ch
}

// roundTrip writes msg on c and reads as many bytes back, giving up at
// the deadline.
func roundTrip(c net.Conn, msg []byte, deadline time.Duration) ([]byte, error) {
	_ = c.SetDeadline(time.Now().Add(deadline))
	if _, err := c.Write(msg); err != nil {
		return nil, err
	}
	got := make([]byte, len(msg))
	n, err := io.ReadFull(c, got)
	return got[:n], err
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// The deadlines below only end a test that would otherwise hang; the
// assertions are about what arrives, and about lower bounds of time that a
// delay imposes, which a slow machine cannot break.

func TestHealthy(t *testing.T) {
	addr, _ := echo(t)
	p := netfault.Start(t, addr)
	c := dial(t, p.Addr)
	msg := bytes.Repeat([]byte("x"), 100<<10)
	got, err := roundTrip(c, msg, 10*time.Second)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("round trip: %d bytes, %v", len(got), err)
	}
}

func TestLatencyAndBandwidth(t *testing.T) {
	addr, _ := echo(t)
	p := netfault.Start(t, addr)
	c := dial(t, p.Addr)
	for _, tc := range []struct {
		name string
		f    netfault.Faults
		n    int
		min  time.Duration
	}{
		{"latency is added each way", netfault.Faults{Latency: 50 * time.Millisecond}, 10, 100 * time.Millisecond},
		// Each way takes 100ms; the echo overlaps them.
		{"bandwidth caps each way", netfault.Faults{Bandwidth: 20_000}, 2_000, 100 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p.Set(tc.f)
			defer p.Set(netfault.Faults{})
			msg := bytes.Repeat([]byte("y"), tc.n)
			start := time.Now()
			got, err := roundTrip(c, msg, 10*time.Second)
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("round trip: %d bytes, %v", len(got), err)
			}
			if d := time.Since(start); d < tc.min {
				t.Fatalf("round trip took %v, less than the %v the fault imposes", d, tc.min)
			}
		})
	}
}

func TestResetMidReply(t *testing.T) {
	addr, _ := echo(t)
	p := netfault.Start(t, addr)
	p.Set(netfault.Faults{ResetRate: 1})
	c := dial(t, p.Addr)
	msg := bytes.Repeat([]byte("z"), 1000)
	got, err := roundTrip(c, msg, 10*time.Second)
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) || len(got) >= len(msg) {
		t.Fatalf("got %d of %d bytes and %v; want part of the reply, then a reset", len(got), len(msg), err)
	}
}

func TestBlackHole(t *testing.T) {
	addr, _ := echo(t)
	p := netfault.Start(t, addr)
	open := dial(t, p.Addr)
	if _, err := roundTrip(open, []byte("a"), 10*time.Second); err != nil {
		t.Fatal(err)
	}

	p.Set(netfault.Faults{BlackHole: true})
	fresh := dial(t, p.Addr) // accepted, then silent
	for name, c := range map[string]net.Conn{"open": open, "new": fresh} {
		if _, err := roundTrip(c, []byte("b"), 100*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("%s connection in a black hole: %v, want silence", name, err)
		}
	}

	p.Set(netfault.Faults{})
	for name, c := range map[string]net.Conn{"open": open, "new": fresh} {
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		got := make([]byte, 1)
		if _, err := io.ReadFull(c, got); err != nil || got[0] != 'b' {
			t.Fatalf("%s connection after the black hole: %q, %v; want the held byte", name, got, err)
		}
	}
}

func TestHalfOpen(t *testing.T) {
	addr, eof := echo(t)
	p := netfault.Start(t, addr)
	c := dial(t, p.Addr)
	if _, err := roundTrip(c, []byte("a"), 10*time.Second); err != nil {
		t.Fatal(err)
	}

	p.HalfOpen()
	<-eof // the server saw its side close
	if _, err := roundTrip(c, []byte("b"), 100*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("half-open link: %v, want writes accepted and silence", err)
	}
	if _, err := roundTrip(dial(t, p.Addr), []byte("c"), 10*time.Second); err != nil {
		t.Fatalf("a new connection after HalfOpen: %v", err)
	}
	if n := p.Conns(); n != 2 {
		t.Fatalf("%d connections open, want the half-open one and the new one", n)
	}
}
