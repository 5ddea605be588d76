package redistest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Replicated is a master and one replica of it, each on its own loopback
// port, with no sentinel: a test of what a replica acknowledged (Redis
// WAIT) freezes or detaches Replica and writes through Master.
type Replicated struct {
	Master  *Server
	Replica *Server
}

// StartReplicated runs, for t alone, a master and a replica in sync with
// it, and stops them at t's cleanup. It skips t when redis-server is not
// installed (fails it when HITBOX_REQUIRE_REDIS=1).
func StartReplicated(t testing.TB) *Replicated {
	t.Helper()
	bin := lookup(t, "redis-server")
	r, err := newReplicated(bin, t.TempDir())
	t.Cleanup(r.Stop)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Stop shuts both servers down.
func (r *Replicated) Stop() {
	for _, n := range []*Server{r.Master, r.Replica} {
		if n != nil {
			n.Stop()
		}
	}
}

// replicationArgs start a full synchronisation at once: Redis otherwise
// waits five seconds (repl-diskless-sync-delay) for more replicas to join
// it, at the first sync and at every resync after a failover.
var replicationArgs = []string{"--repl-diskless-sync-delay", "0"}

// newReplicated starts a master and its replica under root and waits until
// the replica is in sync.
func newReplicated(bin, root string) (*Replicated, error) {
	r := &Replicated{}
	mkdir := func(name string) (string, error) {
		dir := filepath.Join(root, name)
		return dir, os.MkdirAll(dir, 0o755)
	}
	dir, err := mkdir("master")
	if err != nil {
		return r, err
	}
	if r.Master, err = newServer(bin, dir, nil, func(int) ([]string, error) { return replicationArgs, nil }); err != nil {
		return r, err
	}
	if dir, err = mkdir("replica"); err != nil {
		return r, err
	}
	r.Replica, err = newServer(bin, dir, nil, func(int) ([]string, error) {
		return append([]string{"--replicaof", "127.0.0.1", strconv.Itoa(r.Master.Port)}, replicationArgs...), nil
	})
	if err != nil {
		return r, err
	}
	err = poll(sentinelTimeout, func() (bool, error) {
		info, err := do(r.Replica.Addr, "INFO", "replication")
		return strings.Contains(info, "master_link_status:up"), err
	})
	if err != nil {
		return r, fmt.Errorf("redistest: replica %s never got in sync: %w", r.Replica.Addr, err)
	}
	return r, nil
}
