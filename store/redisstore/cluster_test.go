package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/internal/redistest"
	"github.com/hitbox-go/hitbox/store/redisstore"
)

// trips counts the round trips a cluster client makes to each node: one per
// command sent alone, one per pipeline batch.
type trips struct {
	mu     sync.Mutex
	byNode map[string]int
}

// countTrips makes a cluster client whose node clients report to a trips.
func countTrips(t *testing.T) (*redis.ClusterClient, *trips) {
	t.Helper()
	tr := &trips{byNode: map[string]int{}}
	rdb := redis.NewClusterClient(redistest.SharedCluster(t).Options())
	t.Cleanup(func() { _ = rdb.Close() })
	rdb.OnNewNode(func(node *redis.Client) { node.AddHook(nodeHook{tr, node.Options().Addr}) })
	if err := rdb.Ping(context.Background()).Err(); err != nil { // loads the slot map
		t.Fatal(err)
	}
	return rdb, tr
}

func (tr *trips) reset() map[string]int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	got := tr.byNode
	tr.byNode = map[string]int{}
	return got
}

type nodeHook struct {
	tr   *trips
	addr string
}

func (h nodeHook) count() {
	h.tr.mu.Lock()
	defer h.tr.mu.Unlock()
	h.tr.byNode[h.addr]++
}

func (h nodeHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h nodeHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		switch cmd.Name() {
		case "hello", "client", "cluster", "command":
			// Connection set-up and the client's own bookkeeping, not
			// the store's commands.
		default:
			h.count()
		}
		return next(ctx, cmd)
	}
}

func (h nodeHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.count()
		return next(ctx, cmds)
	}
}

// TestClusterBatch checks the batch operations on a cluster with keys in
// thousands of slots on every master: no cross-slot error, every key right,
// and one round trip per node.
func TestClusterBatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb, tr := countTrips(t)
	s, err := redisstore.New(rdb, redisstore.Options{Prefix: redistest.Prefix(t)})
	if err != nil {
		t.Fatal(err)
	}

	const n = 3000
	items := make([]hitbox.Item, n)
	keys := make([]string, n+1)
	for i := range items {
		keys[i] = fmt.Sprint("key", i)
		items[i] = hitbox.Item{Key: keys[i], Entry: hitbox.Entry{Value: []byte(fmt.Sprint(i))}}
	}
	keys[n] = "absent"

	tr.reset()
	if err := s.SetMany(ctx, items); err != nil {
		t.Fatal(err)
	}
	checkTrips(t, "SetMany", tr.reset())

	res, err := s.GetMany(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	checkTrips(t, "GetMany", tr.reset())
	for i, r := range res[:n] {
		if r.Err != nil || string(r.Entry.Value) != fmt.Sprint(i) {
			t.Fatalf("key %d: %q, %v", i, r.Entry.Value, r.Err)
		}
	}
	if !errors.Is(res[n].Err, hitbox.ErrMiss) {
		t.Fatalf("absent key: %v, want a miss", res[n].Err)
	}

	if err := s.DeleteMany(ctx, keys[:n/2]); err != nil {
		t.Fatal(err)
	}
	checkTrips(t, "DeleteMany", tr.reset())
	res, _ = s.GetMany(ctx, keys[:n])
	for i, r := range res {
		if deleted := i < n/2; deleted != errors.Is(r.Err, hitbox.ErrMiss) {
			t.Fatalf("key %d (deleted: %v): %v", i, deleted, r.Err)
		}
	}
}

// checkTrips fails t unless got holds one round trip to each of the three
// masters.
func checkTrips(t *testing.T, op string, got map[string]int) {
	t.Helper()
	if len(got) != 3 {
		t.Errorf("%s reached %d nodes, want all 3: %v", op, len(got), got)
	}
	for addr, n := range got {
		if n != 1 {
			t.Errorf("%s made %d round trips to %s, want 1", op, n, addr)
		}
	}
}

// TestClusterClear checks that Clear removes the store's keys from every
// master and leaves other prefixes alone.
func TestClusterClear(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newClusterStore(t, redisstore.Options{})
	keep, _ := newClusterStore(t, redisstore.Options{})
	items := make([]hitbox.Item, 3000)
	for i := range items {
		items[i] = hitbox.Item{Key: fmt.Sprint(i), Entry: hitbox.Entry{Value: []byte("v")}}
	}
	if err := s.SetMany(ctx, items); err != nil {
		t.Fatal(err)
	}
	if err := keep.SetMany(ctx, items[:10]); err != nil {
		t.Fatal(err)
	}
	if err := s.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	keys := make([]string, len(items))
	for i, it := range items {
		keys[i] = it.Key
	}
	res, err := s.GetMany(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if !errors.Is(r.Err, hitbox.ErrMiss) {
			t.Fatalf("key %d survived Clear: %v", i, r.Err)
		}
	}
	res, _ = keep.GetMany(ctx, keys[:10])
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("another prefix lost key %d: %v", i, r.Err)
		}
	}
}

// TestClusterClearPrefix checks that ClearPrefix removes the keys under
// the store prefix and its own from every master, and leaves the store's
// other keys and another store's keys under the same relative prefix.
func TestClusterClearPrefix(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := newClusterStore(t, redisstore.Options{})
	other, _ := newClusterStore(t, redisstore.Options{})
	var gone, kept []string
	items := make([]hitbox.Item, 0, 3000)
	for i := range 3000 {
		k := fmt.Sprint("keep:", i)
		if i%2 == 0 {
			k = fmt.Sprint("drop:", i)
			gone = append(gone, k)
		} else {
			kept = append(kept, k)
		}
		items = append(items, hitbox.Item{Key: k, Entry: hitbox.Entry{Value: []byte("v")}})
	}
	for _, st := range []*redisstore.Store{s, other} {
		if err := st.SetMany(ctx, items); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.ClearPrefix(ctx, "drop:"); err != nil {
		t.Fatal(err)
	}
	check := func(st *redisstore.Store, keys []string, wantMiss bool, what string) {
		t.Helper()
		res, err := st.GetMany(ctx, keys)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			if errors.Is(r.Err, hitbox.ErrMiss) != wantMiss {
				t.Fatalf("%s: key %s: %v", what, keys[i], r.Err)
			}
		}
	}
	check(s, gone, true, "a key under the cleared prefix survived")
	check(s, kept, false, "a key outside the cleared prefix was lost")
	check(other, gone, false, "another store lost a key")
}

// TestClusterHashTagPrefix checks a store whose prefix is a hash tag: every
// key in one slot, on one node, and the batches still work.
func TestClusterHashTagPrefix(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb, tr := countTrips(t)
	s, err := redisstore.New(rdb, redisstore.Options{Prefix: "{" + redistest.Prefix(t) + "}"})
	if err != nil {
		t.Fatal(err)
	}
	items := make([]hitbox.Item, 100)
	keys := make([]string, len(items))
	for i := range items {
		keys[i] = fmt.Sprint(i)
		items[i] = hitbox.Item{Key: keys[i], Entry: hitbox.Entry{Value: []byte("v")}}
	}
	if err := s.SetMany(ctx, items); err != nil {
		t.Fatal(err)
	}
	tr.reset()
	res, err := s.GetMany(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	if got := tr.reset(); len(got) != 1 {
		t.Errorf("GetMany reached %v, want one node once", got)
	}
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("key %d: %v", i, r.Err)
		}
	}
	if err := s.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "0"); !errors.Is(err, hitbox.ErrMiss) {
		t.Fatalf("after Clear: %v", err)
	}
}

// TestClusterSizes checks values of 0 B and 1 MiB, and the limit+1 refused,
// on a cluster.
func TestClusterSizes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const limit = 1 << 20
	s, _ := newClusterStore(t, redisstore.Options{MaxValueSize: limit})
	for _, size := range []int{0, limit} {
		v := bytes.Repeat([]byte{'x'}, size)
		if err := s.Set(ctx, fmt.Sprint(size), hitbox.Entry{Value: v}); err != nil {
			t.Fatalf("%d bytes: %v", size, err)
		}
		if got, err := s.Get(ctx, fmt.Sprint(size)); err != nil || !bytes.Equal(got.Value, v) {
			t.Fatalf("%d bytes: got %d bytes, %v", size, len(got.Value), err)
		}
	}
	if err := s.Set(ctx, "big", hitbox.Entry{Value: make([]byte, limit+1)}); !errors.Is(err, hitbox.ErrTooLarge) {
		t.Fatalf("limit+1: %v, want ErrTooLarge", err)
	}
}
