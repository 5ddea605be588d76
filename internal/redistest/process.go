package redistest

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// readyTimeout bounds how long a server may take to start listening.
const readyTimeout = 15 * time.Second

// errPortTaken says the server could not bind its port: another process
// took it between our probe and the server's bind, so try another.
var errPortTaken = errors.New("redistest: port already in use")

// process is one running redis-server. Its output goes through a pipe that
// one goroutine reads, so the start can wait for the "Ready" line instead of
// polling, and a failed start can show why.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the output pipe is drained (the server exited)

	mu   sync.Mutex
	tail []string // the last lines of output, for error messages
}

// startProcess runs redis-server with args in dir and returns once it
// accepts connections on port.
func startProcess(bin, dir string, port int, args []string) (*process, error) {
	// A server says it is ready; a sentinel only names itself, once it
	// listens and monitors.
	readyLine := "Ready to accept connections"
	if slices.Contains(args, "--sentinel") {
		readyLine = "Sentinel ID is"
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout = w
	cmd.Stderr = w
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("redistest: start %s: %w", bin, err)
	}
	w.Close() // the child holds its own copy; EOF on r now means it exited

	p := &process{cmd: cmd, done: make(chan struct{})}
	ready := make(chan struct{})
	go p.read(r, readyLine, ready)

	timer := time.NewTimer(readyTimeout)
	defer timer.Stop()
	select {
	case <-ready:
	case <-p.done:
		_ = cmd.Wait()
		if strings.Contains(p.output(), "already in use") {
			return nil, errPortTaken
		}
		return nil, fmt.Errorf("redistest: redis-server on port %d exited before it was ready:\n%s", port, p.output())
	case <-timer.C:
		p.signal(syscall.SIGKILL)
		return nil, fmt.Errorf("redistest: redis-server on port %d not ready after %v:\n%s", port, readyTimeout, p.output())
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if err := waitPing(addr, readyTimeout); err != nil {
		p.signal(syscall.SIGKILL)
		return nil, fmt.Errorf("redistest: redis-server on %s: %w\n%s", addr, err, p.output())
	}
	return p, nil
}

// read drains the server's output until it exits, keeping the last lines
// and closing ready at the first line holding readyLine.
func (p *process) read(r *os.File, readyLine string, ready chan struct{}) {
	defer close(p.done)
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	signalled := false
	for sc.Scan() {
		line := sc.Text()
		p.mu.Lock()
		if len(p.tail) == 40 {
			p.tail = append(p.tail[:0], p.tail[1:]...)
		}
		p.tail = append(p.tail, line)
		p.mu.Unlock()
		if !signalled && strings.Contains(line, readyLine) {
			signalled = true
			close(ready)
		}
	}
}

func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.tail, "\n")
}

// signal sends sig and waits until the process has exited and its output
// is drained, so no goroutine outlives it.
func (p *process) signal(sig syscall.Signal) {
	_ = p.cmd.Process.Signal(sig)
	<-p.done
	_ = p.cmd.Wait()
}

// freePort returns a loopback port that was free a moment ago. The caller
// retries on errPortTaken, since the port is not reserved.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
