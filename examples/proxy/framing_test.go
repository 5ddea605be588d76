package main

import (
	"testing"
)

// TestFramingUnseen: a request the follower has no verdict for, with its
// state not lost (which only a framing it got wrong can lead to), is
// served with the connection closed after it, as after lost state.
func TestFramingUnseen(t *testing.T) {
	t.Parallel()
	c := &framingConn{}
	if v := c.next(); v != framingUnknown {
		t.Errorf("no request followed: verdict %d, want framingUnknown", v)
	}
	c.scan([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	if v, w := c.next(), c.next(); v != framingOK || w != framingUnknown {
		t.Errorf("one request followed, two popped: verdicts %d, %d; want framingOK, framingUnknown", v, w)
	}
}
