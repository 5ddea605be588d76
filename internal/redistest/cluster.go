package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
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

// Cluster is a running local Redis Cluster of three masters and no
// replicas, every node on its own loopback ports and in its own directory.
type Cluster struct {
	Addrs []string  // the masters' host:port, one per node
	Nodes []*Server // the masters, in the order of Addrs
}

// StartCluster runs a three-master Redis Cluster for t alone and stops it at
// t's cleanup. It skips t when redis-server or redis-cli is not installed
// (fails it when HITBOX_REQUIRE_REDIS=1).
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	server, cli := lookup(t, "redis-server"), lookup(t, "redis-cli")
	c, err := newCluster(server, cli, t.TempDir())
	if c != nil {
		t.Cleanup(c.Stop)
	}
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// newCluster starts the nodes under root, joins them with redis-cli and
// waits until every node reports cluster_state:ok. On error it returns the
// nodes started so far, for the caller to stop.
func newCluster(serverBin, cliBin, root string) (*Cluster, error) {
	c := &Cluster{}
	for i := range clusterMasters {
		dir := filepath.Join(root, "node"+strconv.Itoa(i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return c, err
		}
		s, err := newServer(serverBin, dir, func(port int) ([]string, error) {
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
				"--cluster-node-timeout", "5000",
			}, nil
		})
		if err != nil {
			return c, err
		}
		c.Nodes = append(c.Nodes, s)
		c.Addrs = append(c.Addrs, s.Addr)
	}

	ctx, cancel := context.WithTimeout(context.Background(), clusterTimeout)
	defer cancel()
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	out, err := exec.CommandContext(ctx, cliBin, args...).CombinedOutput()
	if err != nil {
		return c, fmt.Errorf("redistest: redis-cli --cluster create: %w\n%s", err, out)
	}

	for _, addr := range c.Addrs {
		err := poll(clusterTimeout, func() (bool, error) {
			info, err := do(addr, "CLUSTER", "INFO")
			return strings.Contains(info, "cluster_state:ok"), err
		})
		if err != nil {
			return c, fmt.Errorf("redistest: cluster node %s: %w", addr, err)
		}
	}
	return c, nil
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
	for _, s := range c.Nodes {
		s.Stop()
	}
}

// Options returns cluster client options, with the same settings as
// Server.Options.
func (c *Cluster) Options() *redis.ClusterOptions {
	return &redis.ClusterOptions{
		Addrs:                 c.Addrs,
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
