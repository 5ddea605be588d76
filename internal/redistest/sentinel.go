package redistest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// SentinelMaster is the name the sentinels of StartSentinel monitor the
// master under, for redis.FailoverOptions.MasterName.
const SentinelMaster = "hitbox"

// sentinels is how many sentinels watch the pair: three, so two of them
// (a majority) can agree that the master is down and elect a leader for the
// failover while one is slow.
const sentinels = 3

// Sentinel is a master and its replica watched by three Redis Sentinels,
// every process on its own loopback port.
type Sentinel struct {
	Master  *Server // the master as started; a failover makes Replica the master
	Replica *Server // the replica as started

	Sentinels []*Server // the sentinels
	Addrs     []string  // the sentinels' host:port, for FailoverOptions
}

// StartSentinel runs, for t alone, a master, its replica and three
// sentinels monitoring them as SentinelMaster, and stops them at t's
// cleanup. A master that stops answering is judged down after a second
// (down-after-milliseconds) and the replica promoted a few seconds later.
// Sentinels are redis-server in sentinel mode, so nothing beyond
// redis-server is needed. It skips t when redis-server is not installed
// (fails it when HITBOX_REQUIRE_REDIS=1).
func StartSentinel(t testing.TB) *Sentinel {
	t.Helper()
	bin := lookup(t, "redis-server")
	s, err := newSentinel(bin, t.TempDir())
	t.Cleanup(s.Stop)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sentinelTimeout bounds the wait for the sentinels to find the replica
// and each other.
const sentinelTimeout = 60 * time.Second

func newSentinel(bin, root string) (*Sentinel, error) {
	s := &Sentinel{}
	mkdir := func(name string) (string, error) {
		dir := filepath.Join(root, name)
		return dir, os.MkdirAll(dir, 0o755)
	}
	pair, err := newReplicated(bin, root)
	s.Master, s.Replica = pair.Master, pair.Replica
	if err != nil {
		return s, err
	}

	// A sentinel rewrites its configuration file as it learns the
	// topology, so each has its own, in its own directory.
	conf := fmt.Sprintf("sentinel monitor %[1]s 127.0.0.1 %[2]d 2\n"+
		"sentinel down-after-milliseconds %[1]s 1000\n"+
		"sentinel failover-timeout %[1]s 10000\n", SentinelMaster, s.Master.Port)
	for i := range sentinels {
		dir, err := mkdir("sentinel" + strconv.Itoa(i))
		if err != nil {
			return s, err
		}
		path := filepath.Join(dir, "sentinel.conf")
		if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
			return s, err
		}
		n, err := newServer(bin, dir, []string{path, "--sentinel"}, nil)
		if err != nil {
			return s, err
		}
		s.Sentinels = append(s.Sentinels, n)
		s.Addrs = append(s.Addrs, n.Addr)
	}

	// Every sentinel must know the replica (it may promote it) and the
	// other two (they vote on the failover) before a test kills anything.
	want := fmt.Sprintf("status=ok,address=%s,slaves=1,sentinels=%d", s.Master.Addr, sentinels)
	for _, n := range s.Sentinels {
		err := poll(sentinelTimeout, func() (bool, error) {
			info, err := do(n.Addr, "INFO", "sentinel")
			return strings.Contains(info, want), err
		})
		if err != nil {
			return s, fmt.Errorf("redistest: sentinel %s never saw the replica and the other sentinels: %w", n.Addr, err)
		}
	}
	return s, nil
}

// MasterAddr returns the address of the master as the first sentinel that
// answers sees it.
func (s *Sentinel) MasterAddr() (string, error) {
	var lastErr error
	for _, n := range s.Sentinels {
		info, err := do(n.Addr, "INFO", "sentinel")
		if err != nil {
			lastErr = err
			continue
		}
		_, rest, ok := strings.Cut(info, "address=")
		if !ok {
			return "", fmt.Errorf("redistest: sentinel %s monitors nothing:\n%s", n.Addr, info)
		}
		addr, _, _ := strings.Cut(rest, ",")
		return addr, nil
	}
	return "", fmt.Errorf("redistest: no sentinel answers: %w", lastErr)
}

// Stop shuts every process down, the sentinels first, so they do not fail
// over a master that is merely stopping.
func (s *Sentinel) Stop() {
	for _, n := range s.Sentinels {
		n.Stop()
	}
	for _, n := range []*Server{s.Master, s.Replica} {
		if n != nil {
			n.Stop()
		}
	}
}

// FailoverOptions returns options for redis.NewFailoverClient, with the
// same settings as Server.Options.
func (s *Sentinel) FailoverOptions() *redis.FailoverOptions {
	return &redis.FailoverOptions{
		MasterName:            SentinelMaster,
		SentinelAddrs:         s.Addrs,
		ContextTimeoutEnabled: true,
		DialTimeout:           2 * time.Second,
		ReadTimeout:           5 * time.Second,
		WriteTimeout:          5 * time.Second,
		DisableIdentity:       true,
	}
}

// Client returns a new client that follows the master through the
// sentinels, closed at t's cleanup.
func (s *Sentinel) Client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewFailoverClient(s.FailoverOptions())
	t.Cleanup(func() { _ = c.Close() })
	return c
}
