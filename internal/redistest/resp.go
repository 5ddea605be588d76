package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// pollInterval paces the readiness checks of a starting server or cluster.
// It only bounds how often we ask; tests never wait on it for their logic.
const pollInterval = 20 * time.Millisecond

// do sends one command to addr on a fresh connection and returns the reply
// as text: a status, an integer, a bulk string, or an error for an error
// reply. It
// speaks just enough RESP for the start-up checks, so starting a server
// needs no client and leaves no pool or goroutine behind.
func do(addr string, args ...string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))

	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(conn, b.String()); err != nil {
		return "", err
	}

	rd := bufio.NewReader(conn)
	line, err := rd.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", errors.New("empty reply")
	}
	switch line[0] {
	case '+', ':': // status, integer
		return line[1:], nil
	case '-':
		return "", errors.New(line[1:])
	case '$', '=': // bulk string, verbatim string
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return "", fmt.Errorf("unexpected reply %q", line)
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(rd, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
	return "", fmt.Errorf("unexpected reply %q", line)
}

// waitPing returns once addr answers PING, or fails after limit.
func waitPing(addr string, limit time.Duration) error {
	return poll(limit, func() (bool, error) {
		reply, err := do(addr, "PING")
		return err == nil && reply == "PONG", err
	})
}

// poll calls check until it reports done or limit passes; the error is the
// last one check returned.
func poll(limit time.Duration, check func() (bool, error)) error {
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		done, err := check()
		if done {
			return nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = errors.New("condition not met")
			}
			return fmt.Errorf("not ready after %v: %w", limit, err)
		}
		<-tick.C
	}
}
