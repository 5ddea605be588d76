package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterMasters is how many masters a test cluster has: the fewest Redis
// Cluster accepts, each owning a third of the hash slots.
const clusterMasters = 3

// clusterTimeout bounds cluster creation and the wait for it to be healthy.
const clusterTimeout = 60 * time.Second

// Cluster is a running local Redis Cluster of three masters, with or
// without one replica each, every node on its own loopback ports and in its
// own directory.
type Cluster struct {
	Addrs []string  // the masters' host:port as started, one per master
	Nodes []*Server // the masters as started, in the order of Addrs

	// Replicas are the replicas as started, one per master, when the
	// cluster has them. A failover swaps the roles; MasterOf tells the
	// current master of a key.
	Replicas []*Server
}

// StartCluster runs a three-master Redis Cluster for t alone and stops it at
// t's cleanup. It skips t when redis-server or redis-cli is not installed
// (fails it when HITBOX_REQUIRE_REDIS=1).
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	return startCluster(t, 0)
}

// StartReplicatedCluster runs, for t alone, a Redis Cluster of three
// masters with one replica each, and stops it at t's cleanup. A master
// stopped or killed is found failing within about a second (the nodes'
// cluster-node-timeout) and its replica is promoted a second or two later.
// It skips t as StartCluster does.
func StartReplicatedCluster(t testing.TB) *Cluster {
	t.Helper()
	return startCluster(t, 1)
}

func startCluster(t testing.TB, replicas int) *Cluster {
	t.Helper()
	server, cli := lookup(t, "redis-server"), lookup(t, "redis-cli")
	c, err := newCluster(server, cli, t.TempDir(), replicas)
	if c != nil {
		t.Cleanup(c.Stop)
	}
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Node timeouts: how long a node may be silent before the others count it
// failing. Without replicas nothing fails over, so a long timeout keeps a
// busy machine from marking a slow node down; with replicas the timeout is
// what a failover test waits for, so it is short.
const (
	nodeTimeout           = "5000"
	replicatedNodeTimeout = "1000"
)

// newCluster starts the nodes under root (clusterMasters masters, and
// replicas replicas for each), joins them with redis-cli and waits until
// every node reports cluster_state:ok and every replica is in sync. On
// error it returns the nodes started so far, for the caller to stop.
func newCluster(serverBin, cliBin, root string, replicas int) (*Cluster, error) {
	c := &Cluster{}
	timeout := nodeTimeout
	if replicas > 0 {
		timeout = replicatedNodeTimeout
	}
	var all []*Server
	for i := range clusterMasters * (1 + replicas) {
		dir := filepath.Join(root, "node"+strconv.Itoa(i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return c, err
		}
		s, err := newServer(serverBin, dir, nil, func(port int) ([]string, error) {
			// Each node also listens on its cluster bus, at port+10000
			// (Redis 7 could name another port, but older servers, still
			// common on laptops, cannot). Try another port when that one
			// is out of range or taken.
			if !freeToo(port + busOffset) {
				return nil, errPortTaken
			}
			return []string{
				"--cluster-enabled", "yes",
				"--cluster-config-file", filepath.Join(dir, "nodes.conf"),
				"--cluster-node-timeout", timeout,
			}, nil
		})
		if err != nil {
			return c, err
		}
		all = append(all, s)
		// redis-cli makes masters of the first nodes it is given and
		// replicas of the rest (all on one host, it cannot spread them).
		if i < clusterMasters {
			c.Nodes = append(c.Nodes, s)
			c.Addrs = append(c.Addrs, s.Addr)
		} else {
			c.Replicas = append(c.Replicas, s)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	args := []string{"--cluster", "create"}
	for _, s := range all {
		args = append(args, s.Addr)
	}
	args = append(args, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
	out, err := exec.CommandContext(ctx, cliBin, args...).CombinedOutput()
	if err != nil {
		return c, fmt.Errorf("redistest: redis-cli --cluster create: %w\n%s", err, out)
	}
	if err := c.waitHealthy(clusterTimeout); err != nil {
		return c, err
	}
	for _, s := range c.Replicas {
		err := poll(clusterTimeout, func() (bool, error) {
			info, err := do(s.Addr, "INFO", "replication")
			return strings.Contains(info, "role:slave") && strings.Contains(info, "master_link_status:up"), err
		})
		if err != nil {
			return c, fmt.Errorf("redistest: cluster replica %s never got in sync: %w", s.Addr, err)
		}
	}
	return c, nil
}

// waitHealthy waits until every running node reports cluster_state:ok and
// sees every slot served by a running master: a node that has not yet
// noticed a killed master still reports ok.
func (c *Cluster) waitHealthy(limit time.Duration) error {
	running := make(map[string]bool)
	for _, s := range c.all() {
		running[s.Addr] = s.Running()
	}
	for _, s := range c.all() {
		if !running[s.Addr] {
			continue
		}
		err := poll(limit, func() (bool, error) {
			info, err := do(s.Addr, "CLUSTER", "INFO")
			if err != nil || !strings.Contains(info, "cluster_state:ok") {
				return false, err
			}
			nodes, err := do(s.Addr, "CLUSTER", "NODES")
			if err != nil {
				return false, err
			}
			for line := range strings.Lines(nodes) {
				f := strings.Fields(line)
				if len(f) < 9 || !strings.Contains(f[2], "master") {
					continue // a replica, or a master without slots
				}
				if addr, _, _ := strings.Cut(f[1], "@"); !running[addr] {
					return false, fmt.Errorf("slots still on %s, which is down", addr)
				}
			}
			return true, nil
		})
		if err != nil {
			return fmt.Errorf("redistest: cluster node %s: %w", s.Addr, err)
		}
	}
	return nil
}

// WaitHealthy waits until every running node reports the cluster healthy
// and sees every slot served by a running node (after a master is killed:
// until its replica is promoted), and fails t after a minute.
func (c *Cluster) WaitHealthy(t testing.TB) {
	t.Helper()
	if err := c.waitHealthy(clusterTimeout); err != nil {
		t.Fatal(err)
	}
}

// MasterOf returns the node that serves key now, as a running node sees
// the cluster.
func (c *Cluster) MasterOf(key string) (*Server, error) {
	lastErr := errors.New("no node is running")
	for _, s := range c.all() {
		if !s.Running() {
			continue
		}
		slotText, err := do(s.Addr, "CLUSTER", "KEYSLOT", key)
		if err != nil {
			lastErr = err
			continue
		}
		slot, err := strconv.Atoi(slotText)
		if err != nil {
			return nil, fmt.Errorf("redistest: CLUSTER KEYSLOT: %q", slotText)
		}
		nodes, err := do(s.Addr, "CLUSTER", "NODES")
		if err != nil {
			lastErr = err
			continue
		}
		addr, ok := slotOwner(nodes, slot)
		if !ok {
			return nil, fmt.Errorf("redistest: no master serves slot %d", slot)
		}
		for _, n := range c.all() {
			if n.Addr == addr {
				return n, nil
			}
		}
		return nil, fmt.Errorf("redistest: slot %d is on %s, not a node of this cluster", slot, addr)
	}
	return nil, fmt.Errorf("redistest: no cluster node answers: %w", lastErr)
}

// slotOwner finds, in CLUSTER NODES output, the address of the master that
// is not failing and serves slot.
func slotOwner(nodes string, slot int) (string, bool) {
	for line := range strings.Lines(nodes) {
		f := strings.Fields(line)
		// id addr flags master ping pong epoch state slot...
		if len(f) < 9 || !strings.Contains(f[2], "master") || strings.Contains(f[2], "fail") {
			continue
		}
		addr, _, _ := strings.Cut(f[1], "@")
		for _, r := range f[8:] {
			lo, hi, found := strings.Cut(r, "-")
			if !found {
				hi = lo
			}
			a, err1 := strconv.Atoi(lo)
			b, err2 := strconv.Atoi(hi)
			if err1 == nil && err2 == nil && a <= slot && slot <= b {
				return addr, true
			}
		}
	}
	return "", false
}

// all returns every node, masters first.
func (c *Cluster) all() []*Server {
	return append(slices.Clip(c.Nodes), c.Replicas...)
}

// busOffset is how far above a node's port Redis puts its cluster bus.
const busOffset = 10000

// freeToo reports whether port is a valid port nothing listens on now.
func freeToo(port int) bool {
	if port > 65535 {
		return false
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// Stop shuts every node down. It does nothing for nodes already stopped.
func (c *Cluster) Stop() {
	for _, s := range c.all() {
		s.Stop()
	}
}

// Options returns cluster client options, with the same settings as
// Server.Options. They name every node, replicas too, so a client can
// find the cluster while any one node is down.
func (c *Cluster) Options() *redis.ClusterOptions {
	var addrs []string
	for _, s := range c.all() {
		addrs = append(addrs, s.Addr)
	}
	return &redis.ClusterOptions{
		Addrs:                 addrs,
		ContextTimeoutEnabled: true,
		DialTimeout:           2 * time.Second,
		ReadTimeout:           5 * time.Second,
		WriteTimeout:          5 * time.Second,
		DisableIdentity:       true,
	}
}

// Client returns a new cluster client, closed at t's cleanup.
func (c *Cluster) Client(t testing.TB) *redis.ClusterClient {
	t.Helper()
	rdb := redis.NewClusterClient(c.Options())
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}
