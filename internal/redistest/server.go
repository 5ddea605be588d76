package redistest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RequireEnv names the environment variable that turns a missing
// redis-server from a skip into a failure. CI sets it to 1.
const RequireEnv = "HITBOX_REQUIRE_REDIS"

// installHint is the one line a skipped test prints.
const installHint = "not installed; to run the Redis tests install it (apt-get install redis-server redis-tools, or brew install redis)"

// startAttempts bounds the retries when a probed port is taken before the
// server binds it, or does not suit a cluster node.
const startAttempts = 30

// Server is one running redis-server on a loopback port, with no
// persistence. Its methods are safe for concurrent use.
type Server struct {
	Addr string // host:port to dial, on 127.0.0.1
	Port int    // the port of Addr

	bin  string
	dir  string
	args []string

	mu   sync.Mutex
	proc *process // nil while stopped
}

// Start runs a redis-server for t alone and stops it at t's cleanup. It
// skips t when redis-server is not installed (fails it when
// HITBOX_REQUIRE_REDIS=1).
func Start(t testing.TB) *Server {
	t.Helper()
	bin := lookup(t, "redis-server")
	s, err := newServer(bin, t.TempDir(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// lookup finds a Redis program on the PATH, or ends t: a skip with an
// install hint, or a failure when RequireEnv is set.
func lookup(t testing.TB, name string) string {
	t.Helper()
	bin, err := exec.LookPath(name)
	if err == nil {
		return bin
	}
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("%s not found on PATH and %s=1: %v", name, RequireEnv, err)
	}
	t.Skipf("%s %s", name, installHint)
	return ""
}

// newServer starts a server in dir on a free port. lead, which may be nil,
// goes first on the command line (a configuration file, --sentinel). extra,
// which may be nil, returns more arguments for the chosen port (cluster
// settings), or errPortTaken to have another port chosen.
func newServer(bin, dir string, lead []string, extra func(port int) ([]string, error)) (*Server, error) {
	var lastErr error
	for range startAttempts {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		args := append(slices.Clip(lead),
			"--port", strconv.Itoa(port),
			"--bind", "127.0.0.1",
			"--save", "",
			"--appendonly", "no",
			"--daemonize", "no",
			"--dir", dir,
		)
		if extra != nil {
			more, err := extra(port)
			if errors.Is(err, errPortTaken) {
				lastErr = err
				continue
			}
			if err != nil {
				return nil, err
			}
			args = append(args, more...)
		}
		proc, err := startProcess(bin, dir, port, args)
		if errors.Is(err, errPortTaken) {
			lastErr = err
			continue
		}
		if err != nil {
			return nil, err
		}
		return &Server{
			Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
			Port: port,
			bin:  bin, dir: dir, args: args,
			proc: proc,
		}, nil
	}
	return nil, fmt.Errorf("redistest: no free port after %d attempts: %w", startAttempts, lastErr)
}

// Stop shuts the server down (SIGTERM) and waits for it to exit. It does
// nothing when the server is not running.
func (s *Server) Stop() { s.halt(syscall.SIGTERM) }

// Kill ends the server abruptly (SIGKILL), as a crash would: open
// connections drop without a reply. It does nothing when the server is not
// running.
func (s *Server) Kill() { s.halt(syscall.SIGKILL) }

// Pause freezes the server (SIGSTOP): it keeps its connections but answers
// nothing, as a hung or overloaded server would, until Resume.
func (s *Server) Pause() { s.send(sigStop) }

// Resume lets a paused server run again (SIGCONT).
func (s *Server) Resume() { s.send(sigCont) }

// Running reports whether the server has been started and not stopped or
// killed since. A paused server is running.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc != nil
}

func (s *Server) send(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		_ = s.proc.cmd.Process.Signal(sig)
	}
}

func (s *Server) halt(sig syscall.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		_ = s.proc.cmd.Process.Signal(sigCont) // a paused server must run to exit
		s.proc.signal(sig)
		s.proc = nil
	}
}

// Restart starts the server again on the same port, with the same settings
// and an empty data set, stopping it first if it still runs. Clients that
// were connected before reconnect on their next command.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	for range startAttempts {
		s.proc, err = startProcess(s.bin, s.dir, s.Port, s.args)
		if !errors.Is(err, errPortTaken) {
			break
		}
		// The old sockets may linger for a moment after a kill; Redis
		// binds with SO_REUSEADDR, so this is rare.
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("redistest: restart on port %d: %v", s.Port, err)
	}
}

// Options returns client options for the server. ContextTimeoutEnabled is
// on so a context deadline bounds network I/O, and dialling fails fast, so
// outage tests see errors promptly.
func (s *Server) Options() *redis.Options {
	return &redis.Options{
		Addr:                  s.Addr,
		ContextTimeoutEnabled: true,
		DialTimeout:           2 * time.Second,
		ReadTimeout:           5 * time.Second,
		WriteTimeout:          5 * time.Second,
		DisableIdentity:       true,
	}
}

// Client returns a new client for the server, closed at t's cleanup.
func (s *Server) Client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(s.Options())
	t.Cleanup(func() { _ = c.Close() })
	return c
}
