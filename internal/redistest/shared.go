package redistest

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// shared holds the servers one test binary shares between its tests. They
// start on first use, so a package whose Redis tests are all filtered out
// starts nothing, and Main stops them after the last test.
var shared struct {
	mu      sync.Mutex
	main    bool // Main is running the tests
	dir     string
	server  *Server
	cluster *Cluster
	err     error // a failed start, reported to every later caller
}

// prefixes numbers the prefixes handed out by Prefix.
var prefixes atomic.Uint64

// Main runs the tests of m and then stops the servers Shared and
// SharedCluster started. It returns the exit code for os.Exit, after which
// a TestMain may run its own checks (a goroutine leak check, say):
//
//	func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }
func Main(m *testing.M) int {
	shared.mu.Lock()
	shared.main = true
	shared.mu.Unlock()
	code := m.Run()
	stopShared()
	return code
}

// stopShared stops the servers Shared and SharedCluster started.
func stopShared() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.server != nil {
		shared.server.Stop()
		shared.server = nil
	}
	if shared.cluster != nil {
		shared.cluster.Stop()
		shared.cluster = nil
	}
	if shared.dir != "" {
		_ = os.RemoveAll(shared.dir)
		shared.dir = ""
	}
}

// Shared returns the server this test binary's tests share, starting it on
// first use. Tests keep apart by their keys (see Prefix) and must not stop
// it. The package's TestMain must call Main.
func Shared(t testing.TB) *Server {
	t.Helper()
	bin := lookup(t, "redis-server")
	shared.mu.Lock()
	defer shared.mu.Unlock()
	checkShared(t)
	if shared.server == nil {
		dir := sharedDir(t)
		shared.server, shared.err = newServer(bin, dir, nil)
		if shared.err != nil {
			t.Fatal(shared.err)
		}
	}
	return shared.server
}

// SharedCluster returns the cluster this test binary's tests share,
// starting it on first use, as Shared does for a server.
func SharedCluster(t testing.TB) *Cluster {
	t.Helper()
	server, cli := lookup(t, "redis-server"), lookup(t, "redis-cli")
	shared.mu.Lock()
	defer shared.mu.Unlock()
	checkShared(t)
	if shared.cluster == nil {
		root := sharedDir(t) + string(os.PathSeparator) + "cluster"
		c, err := newCluster(server, cli, root)
		if err != nil {
			c.Stop()
			shared.err = err
			t.Fatal(err)
		}
		shared.cluster = c
	}
	return shared.cluster
}

// checkShared ends t when a shared server cannot be used. Callers hold
// shared.mu.
func checkShared(t testing.TB) {
	t.Helper()
	if !shared.main {
		t.Fatal("redistest: shared servers need TestMain to call redistest.Main, which stops them")
	}
	if shared.err != nil {
		t.Fatalf("redistest: shared server failed to start earlier: %v", shared.err)
	}
}

// sharedDir returns the directory of the shared servers, outliving any one
// test. Callers hold shared.mu.
func sharedDir(t testing.TB) string {
	t.Helper()
	if shared.dir == "" {
		dir, err := os.MkdirTemp("", "redistest-")
		if err != nil {
			t.Fatal(err)
		}
		shared.dir = dir
	}
	return shared.dir
}

// Prefix returns a key prefix unique to t within the test binary, so tests
// sharing a server never see each other's keys. It holds no hash tag, so
// keys under it spread over a cluster's slots.
func Prefix(t testing.TB) string {
	var b strings.Builder
	b.WriteString("test:")
	for _, r := range t.Name() {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-', r == '/':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	b.WriteByte(':')
	b.WriteString(strconv.FormatUint(prefixes.Add(1), 10))
	b.WriteByte(':')
	return b.String()
}
