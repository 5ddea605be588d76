package redistest

import (
	"context"
	"fmt"
	"time"

	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
)

// shared holds the servers one test binary shares between its tests. They
// start on first use, so a package whose Redis tests are all filtered out
// starts nothing, and Main stops them after the last test.
//
// The server and the cluster have locks of their own, so a test waiting for
// the cluster to form does not hold up one that needs only the server.
var shared struct {
	main atomic.Bool // Main is running the tests

	dirMu sync.Mutex
	dir   string

	serverMu  sync.Mutex
	server    *Server
	serverErr error // a failed start, reported to every later caller

	clusterMu  sync.Mutex
	cluster    *Cluster
	clusterErr error
}

// prefixes numbers the prefixes handed out by Prefix.
var prefixes atomic.Uint64

// Main runs the tests of m, stops the servers Shared and SharedCluster
// started, and, when the tests passed, fails the run if a goroutine
// outlived them (goleak). It returns the exit code for os.Exit:
//
//	func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }
func Main(m *testing.M) int {
	shared.main.Store(true)
	code := m.Run()
	stopShared()
	if code == 0 {
		err := goleak.Find()
		// go-redis redials a connection that failed in a goroutine of its
		// pool that sleeps a second between attempts and ends at the
		// first after its client closed: give it that second, and more.
		for i := 0; err != nil && i < 5; i++ {
			time.Sleep(500 * time.Millisecond)
			err = goleak.Find()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	return code
}

// Quiet silences go-redis's own log lines, of which every refused dial in
// an outage prints one; a TestMain of fault tests calls it before Main.
func Quiet() { redis.SetLogger(quietLogger{}) }

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}

// stopShared stops the servers Shared and SharedCluster started.
func stopShared() {
	shared.serverMu.Lock()
	if shared.server != nil {
		shared.server.Stop()
		shared.server = nil
	}
	shared.serverMu.Unlock()

	shared.clusterMu.Lock()
	if shared.cluster != nil {
		shared.cluster.Stop()
		shared.cluster = nil
	}
	shared.clusterMu.Unlock()

	shared.dirMu.Lock()
	if shared.dir != "" {
		_ = os.RemoveAll(shared.dir)
		shared.dir = ""
	}
	shared.dirMu.Unlock()
}

// Shared returns the server this test binary's tests share, starting it on
// first use. Tests keep apart by their keys (see Prefix) and must not stop
// it. The package's TestMain must call Main.
func Shared(t testing.TB) *Server {
	t.Helper()
	bin := lookup(t, "redis-server")
	checkMain(t)
	shared.serverMu.Lock()
	defer shared.serverMu.Unlock()
	if shared.serverErr != nil {
		t.Fatalf("redistest: the shared server failed to start earlier: %v", shared.serverErr)
	}
	if shared.server == nil {
		dir := filepath.Join(sharedDir(t), "server")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		shared.server, shared.serverErr = newServer(bin, dir, nil, nil)
		if shared.serverErr != nil {
			t.Fatal(shared.serverErr)
		}
	}
	return shared.server
}

// SharedCluster returns the cluster this test binary's tests share,
// starting it on first use, as Shared does for a server.
func SharedCluster(t testing.TB) *Cluster {
	t.Helper()
	server, cli := lookup(t, "redis-server"), lookup(t, "redis-cli")
	checkMain(t)
	shared.clusterMu.Lock()
	defer shared.clusterMu.Unlock()
	if shared.clusterErr != nil {
		t.Fatalf("redistest: the shared cluster failed to start earlier: %v", shared.clusterErr)
	}
	if shared.cluster == nil {
		c, err := newCluster(server, cli, filepath.Join(sharedDir(t), "cluster"), 0)
		if err != nil {
			c.Stop()
			shared.clusterErr = err
			t.Fatal(err)
		}
		shared.cluster = c
	}
	return shared.cluster
}

// checkMain ends t unless Main runs the tests, since only Main stops the
// shared servers.
func checkMain(t testing.TB) {
	t.Helper()
	if !shared.main.Load() {
		t.Fatal("redistest: shared servers need TestMain to call redistest.Main, which stops them")
	}
}

// sharedDir returns the directory of the shared servers, outliving any one
// test.
func sharedDir(t testing.TB) string {
	t.Helper()
	shared.dirMu.Lock()
	defer shared.dirMu.Unlock()
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
