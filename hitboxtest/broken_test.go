package hitboxtest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/hitboxtest"
	"github.com/hitbox-go/hitbox/internal/mapstore"
)

// A suite that passes everything proves nothing. TestSuiteCatchesBrokenBackends
// runs the suite on broken backends and layers in a child process (their
// failures must not fail this test) and checks each breakage is reported by
// the subtest that should see it.
func TestSuiteCatchesBrokenBackends(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the suite in a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestBroken$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "HITBOXTEST_BROKEN=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the suite passed every broken backend:\n%s", out)
	}
	failed := map[string]bool{}
	for line := range strings.Lines(string(out)) {
		if name, ok := strings.CutPrefix(strings.TrimSpace(line), "--- FAIL: "); ok {
			name, _, _ = strings.Cut(name, " ")
			failed[name] = true
		}
	}
	for _, b := range broken {
		for _, sub := range b.caughtBy {
			name := "TestBroken/" + strings.ReplaceAll(b.name+"/"+sub, " ", "_")
			if !failed[name] {
				t.Errorf("%s: the suite did not report %q", b.name, sub)
			}
		}
	}
	if t.Failed() {
		t.Logf("child output:\n%s", out)
	}
}

// TestBroken runs only in the child process.
func TestBroken(t *testing.T) {
	if os.Getenv("HITBOXTEST_BROKEN") == "" {
		t.Skip("run by TestSuiteCatchesBrokenBackends")
	}
	for _, b := range broken {
		t.Run(b.name, func(t *testing.T) {
			switch {
			case b.store != nil:
				hitboxtest.TestBackend(t, func(t *testing.T, c *hitboxtest.Clock) hitbox.Backend { return b.store(c) }, b.opts)
			case b.layer != nil:
				hitboxtest.TestLayer(t, b.layer, b.opts)
			}
		})
	}
}

var broken = []struct {
	name     string
	store    func(c *hitboxtest.Clock) hitbox.Backend
	layer    hitbox.Layer
	opts     hitboxtest.Options
	caughtBy []string // subtests that must fail
}{
	{
		name: "a store that ignores the context",
		store: func(c *hitboxtest.Clock) hitbox.Backend {
			return deaf{mapstore.New(mapstore.Options{Now: c.Now}).Basic()}
		},
		caughtBy: []string{"a cancelled context fails every operation", "an expired deadline fails every operation"},
	},
	{
		name:     "a store that keeps the caller's slice",
		store:    func(c *hitboxtest.Clock) hitbox.Backend { return &naive{now: c.Now, alias: true} },
		caughtBy: []string{"the stored value does not alias the caller's slice"},
	},
	{
		name:     "a store that never expires entries",
		store:    func(c *hitboxtest.Clock) hitbox.Backend { return &naive{now: c.Now, immortal: true} },
		caughtBy: []string{"an expired key is a miss", "an entry whose Expire has passed is not stored"},
	},
	{
		name:     "a store that drops Stale",
		store:    func(c *hitboxtest.Clock) hitbox.Backend { return &naive{now: c.Now, dropStale: true} },
		caughtBy: []string{"deadlines round-trip"},
	},
	{
		name:     "a store that answers a miss with nil",
		store:    func(c *hitboxtest.Clock) hitbox.Backend { return &naive{now: c.Now, nilMiss: true} },
		caughtBy: []string{"an absent key is a miss", "a deleted key is a miss"},
	},
	{
		name:     "a store whose batch reads come back reversed",
		store:    func(c *hitboxtest.Clock) hitbox.Backend { return reversed{mapstore.New(mapstore.Options{Now: c.Now})} },
		caughtBy: []string{"batch reads answer like single reads"},
	},
	{
		name: "a store whose Clear reaches beyond its prefix",
		store: func(c *hitboxtest.Clock) hitbox.Backend {
			return &leaky{shared: mapstore.New(mapstore.Options{Now: c.Now}), prefix: "mine:"}
		},
		opts: hitboxtest.Options{Sibling: func(_ *testing.T, b hitbox.Backend) hitbox.Backend {
			return &leaky{shared: b.(*leaky).shared, prefix: "other:"}
		}},
		caughtBy: []string{"Clear and ClearPrefix stay inside the backend's namespace"},
	},
	{
		name:     "a store whose ClearPrefix reads the prefix as a pattern",
		store:    func(c *hitboxtest.Clock) hitbox.Backend { return &naive{now: c.Now, glob: true} },
		caughtBy: []string{"ClearPrefix removes exactly the keys under the prefix"},
	},
	{
		name:     "a store whose Remove always says it removed",
		store:    func(c *hitboxtest.Clock) hitbox.Backend { return boasting{mapstore.New(mapstore.Options{Now: c.Now})} },
		caughtBy: []string{"Remove says whether it removed"},
	},
	{
		name:     "a store whose Get refuses what its Set accepted",
		store:    func(c *hitboxtest.Clock) hitbox.Backend { return &naive{now: c.Now, readLimit: 1 << 20} },
		caughtBy: []string{"a value Set accepts, Get returns"},
	},
	{
		name: "a Tagger whose Get ignores tags",
		store: func(c *hitboxtest.Clock) hitbox.Backend {
			return &blind{tagged: mapstore.New(mapstore.Options{Now: c.Now}), plain: mapstore.New(mapstore.Options{Now: c.Now})}
		},
		caughtBy: []string{"tags/InvalidateTags drops exactly the entries carrying a purged tag", "tags/an entry written after a purge survives it"},
	},
	{
		name: "a Tagger whose namespaces share their tags",
		store: func(c *hitboxtest.Clock) hitbox.Backend {
			return &sharedTags{leaky{shared: mapstore.New(mapstore.Options{Now: c.Now}), prefix: "mine:"}}
		},
		opts: hitboxtest.Options{Sibling: func(_ *testing.T, b hitbox.Backend) hitbox.Backend {
			return &sharedTags{leaky{shared: b.(*sharedTags).shared, prefix: "other:"}}
		}},
		caughtBy: []string{"tags/a sibling namespace's tag is not purged"},
	},
	{
		name:     "a Leaser that ignores its leases",
		store:    func(c *hitboxtest.Clock) hitbox.Backend { return heedless{mapstore.New(mapstore.Options{Now: c.Now})} },
		caughtBy: []string{"leases/every change between Lease and SetLeased loses the lease"},
	},
	{
		name:     "a layer that stores a leased write with no lease",
		layer:    func(b hitbox.Backend) hitbox.Backend { return heedlessLayer{b} },
		caughtBy: []string{"leases/every change between Lease and SetLeased loses the lease"},
	},
	{
		name:     "a layer whose Set accepts what its Get refuses",
		layer:    func(b hitbox.Backend) hitbox.Backend { return readLimited{b} },
		caughtBy: []string{"a value Set accepts, Get returns"},
	},
	{
		name:     "a layer that replaces errors",
		layer:    func(b hitbox.Backend) hitbox.Backend { return replacer{b} },
		caughtBy: []string{"a failure below stays visible through the layer", "every optional ability is forwarded"},
	},
	{
		name:     "a layer that drops the caller's context",
		layer:    func(b hitbox.Backend) hitbox.Backend { return deaf{b} },
		caughtBy: []string{"context values and deadlines reach the store", "cancelling a call held in the store returns Canceled", "every optional ability is forwarded"},
	},
}

// deaf calls the backend under it with a background context.
type deaf struct{ b hitbox.Backend }

func (d deaf) Label() string { return d.b.Label() }
func (d deaf) Get(_ context.Context, k string) (hitbox.Entry, error) {
	return d.b.Get(context.Background(), k)
}
func (d deaf) Set(_ context.Context, k string, e hitbox.Entry) error {
	return d.b.Set(context.Background(), k, e)
}
func (d deaf) Delete(_ context.Context, k string) error { return d.b.Delete(context.Background(), k) }

// replacer swaps every error from below for its own, except misses.
type replacer struct{ b hitbox.Backend }

var errReplaced = errors.New("something failed")

func replace(err error) error {
	if err == nil || errors.Is(err, hitbox.ErrMiss) {
		return err
	}
	return errReplaced
}

func (r replacer) Label() string { return r.b.Label() }
func (r replacer) Get(ctx context.Context, k string) (hitbox.Entry, error) {
	e, err := r.b.Get(ctx, k)
	return e, replace(err)
}
func (r replacer) Set(ctx context.Context, k string, e hitbox.Entry) error {
	return replace(r.b.Set(ctx, k, e))
}
func (r replacer) Delete(ctx context.Context, k string) error { return replace(r.b.Delete(ctx, k)) }

// readLimited is the reported Compress bug in miniature: its Set takes a
// value of any size, its Get refuses one over 1 MiB as damaged. It is
// transparent otherwise, so that is the one thing the suite must catch.
type readLimited struct{ hitbox.Backend }

func (r readLimited) check(e hitbox.Entry, err error) (hitbox.Entry, error) {
	if err == nil && len(e.Value) > 1<<20 {
		return hitbox.Entry{}, fmt.Errorf("%w: %d bytes restore to over the 1 MiB limit", hitbox.ErrCorrupt, len(e.Value))
	}
	return e, err
}

func (r readLimited) Get(ctx context.Context, k string) (hitbox.Entry, error) {
	return r.check(r.Backend.Get(ctx, k))
}
func (r readLimited) GetMany(ctx context.Context, keys []string) ([]hitbox.Result, error) {
	res, err := hitbox.GetMany(ctx, r.Backend, keys)
	for i := range res {
		res[i].Entry, res[i].Err = r.check(res[i].Entry, res[i].Err)
	}
	return res, err
}
func (r readLimited) SetMany(ctx context.Context, items []hitbox.Item) error {
	return hitbox.SetMany(ctx, r.Backend, items)
}
func (r readLimited) DeleteMany(ctx context.Context, keys []string) error {
	return hitbox.DeleteMany(ctx, r.Backend, keys)
}
func (r readLimited) Clear(ctx context.Context) error { return hitbox.Clear(ctx, r.Backend) }
func (r readLimited) Close() error                    { return hitbox.Close(r.Backend) }

// reversed answers GetMany in the wrong order.
type reversed struct{ *mapstore.Store }

func (r reversed) GetMany(ctx context.Context, keys []string) ([]hitbox.Result, error) {
	res, err := r.Store.GetMany(ctx, keys)
	for i, j := 0, len(res)-1; i < j; i, j = i+1, j-1 {
		res[i], res[j] = res[j], res[i]
	}
	return res, err
}

// naive is a map store with one chosen flaw.
type naive struct {
	now                                 func() time.Time
	alias, immortal, dropStale, nilMiss bool
	glob                                bool // ClearPrefix reads the prefix as a pattern, as an unescaped SCAN MATCH does
	readLimit                           int  // Get refuses longer values, when positive

	mu sync.Mutex
	m  map[string]hitbox.Entry
}

func (n *naive) Label() string { return "naive" }

func (n *naive) Get(ctx context.Context, k string) (hitbox.Entry, error) {
	if err := errors.Join(ctx.Err(), hitbox.CheckKey(k)); err != nil {
		return hitbox.Entry{}, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	e, ok := n.m[k]
	if !ok || (!n.immortal && e.StateAt(n.now()) == hitbox.Expired) {
		if n.nilMiss {
			return hitbox.Entry{}, nil
		}
		return hitbox.Entry{}, hitbox.ErrMiss
	}
	if n.readLimit > 0 && len(e.Value) > n.readLimit {
		return hitbox.Entry{}, &hitbox.SizeError{Size: len(e.Value), Limit: n.readLimit}
	}
	return e, nil
}

func (n *naive) Set(ctx context.Context, k string, e hitbox.Entry) error {
	if err := errors.Join(ctx.Err(), hitbox.CheckKey(k)); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.m == nil {
		n.m = make(map[string]hitbox.Entry)
	}
	if !n.alias {
		e.Value = append([]byte{}, e.Value...)
	}
	if n.dropStale {
		e.Stale = time.Time{}
	}
	n.m[k] = e
	return nil
}

func (n *naive) Delete(ctx context.Context, k string) error {
	if err := errors.Join(ctx.Err(), hitbox.CheckKey(k)); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.m, k)
	return nil
}

// leaky keeps its keys under prefix in a map it shares with its siblings,
// as stores on one server do, but clears the whole map, and clears by a
// prefix without its own before it.
type leaky struct {
	shared *mapstore.Store
	prefix string
}

func (l *leaky) Label() string { return "leaky" }
func (l *leaky) Get(ctx context.Context, k string) (hitbox.Entry, error) {
	if k == "" {
		return hitbox.Entry{}, hitbox.ErrInvalidKey
	}
	return l.shared.Get(ctx, l.prefix+k)
}
func (l *leaky) Set(ctx context.Context, k string, e hitbox.Entry) error {
	if k == "" {
		return hitbox.ErrInvalidKey
	}
	return l.shared.Set(ctx, l.prefix+k, e)
}
func (l *leaky) Delete(ctx context.Context, k string) error {
	if k == "" {
		return hitbox.ErrInvalidKey
	}
	return l.shared.Delete(ctx, l.prefix+k)
}
func (l *leaky) Clear(ctx context.Context) error { return l.shared.Clear(ctx) }

// boasting reports every Remove as having removed something.
type boasting struct{ *mapstore.Store }

func (b boasting) Remove(ctx context.Context, k string) (bool, error) {
	_, err := b.Store.Remove(ctx, k)
	return err == nil, err
}

func (n *naive) ClearPrefix(ctx context.Context, prefix string) error {
	if err := errors.Join(ctx.Err(), hitbox.CheckKey(prefix)); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for k := range n.m {
		match := strings.HasPrefix(k, prefix)
		if n.glob {
			match, _ = path.Match(prefix+"*", k)
		}
		if match {
			delete(n.m, k)
		}
	}
	return nil
}

// blind keeps tags for GetTagged but answers Get from a copy that knows
// nothing of them, so a purged entry still reads back through Get.
type blind struct{ tagged, plain *mapstore.Store }

func (b *blind) Label() string { return "blind" }
func (b *blind) Get(ctx context.Context, k string) (hitbox.Entry, error) {
	return b.plain.Get(ctx, k)
}
func (b *blind) Set(ctx context.Context, k string, e hitbox.Entry) error {
	return errors.Join(b.tagged.Set(ctx, k, e), b.plain.Set(ctx, k, e))
}
func (b *blind) Delete(ctx context.Context, k string) error {
	return errors.Join(b.tagged.Delete(ctx, k), b.plain.Delete(ctx, k))
}
func (b *blind) SetTagged(ctx context.Context, k string, e hitbox.Entry, tags []string) error {
	return errors.Join(b.tagged.SetTagged(ctx, k, e, tags), b.plain.Set(ctx, k, e))
}
func (b *blind) GetTagged(ctx context.Context, k string) (hitbox.Entry, []string, error) {
	return b.tagged.GetTagged(ctx, k)
}
func (b *blind) InvalidateTags(ctx context.Context, tags ...string) error {
	return b.tagged.InvalidateTags(ctx, tags...)
}

// sharedTags prefixes its keys but not its tags, so a purge in one
// namespace drops the entries of every other.
type sharedTags struct{ leaky }

func (s *sharedTags) SetTagged(ctx context.Context, k string, e hitbox.Entry, tags []string) error {
	if k == "" {
		return hitbox.ErrInvalidKey
	}
	return s.shared.SetTagged(ctx, s.prefix+k, e, tags)
}
func (s *sharedTags) GetTagged(ctx context.Context, k string) (hitbox.Entry, []string, error) {
	if k == "" {
		return hitbox.Entry{}, nil, hitbox.ErrInvalidKey
	}
	return s.shared.GetTagged(ctx, s.prefix+k)
}
func (s *sharedTags) InvalidateTags(ctx context.Context, tags ...string) error {
	return s.shared.InvalidateTags(ctx, tags...)
}

// heedless hands out leases and stores every SetLeased, whatever changed
// since: the stale set leases exist to refuse.
type heedless struct{ *mapstore.Store }

func (h heedless) SetLeased(ctx context.Context, k string, e hitbox.Entry, tags []string, _ hitbox.Lease) error {
	return h.Store.SetTagged(ctx, k, e, tags)
}

// heedlessLayer forwards Lease but stores a leased write as a plain
// tagged one, dropping the lease on its way down.
type heedlessLayer struct{ hitbox.Backend }

func (h heedlessLayer) Lease(ctx context.Context, k string, tags []string) (hitbox.Lease, error) {
	return hitbox.TakeLease(ctx, h.Backend, k, tags)
}

func (h heedlessLayer) SetLeased(ctx context.Context, k string, e hitbox.Entry, tags []string, _ hitbox.Lease) error {
	return hitbox.SetTagged(ctx, h.Backend, k, e, tags...)
}

func (h heedlessLayer) SetTagged(ctx context.Context, k string, e hitbox.Entry, tags []string) error {
	return hitbox.SetTagged(ctx, h.Backend, k, e, tags...)
}

func (h heedlessLayer) GetTagged(ctx context.Context, k string) (hitbox.Entry, []string, error) {
	return hitbox.GetTagged(ctx, h.Backend, k)
}

func (h heedlessLayer) InvalidateTags(ctx context.Context, tags ...string) error {
	return hitbox.InvalidateTags(ctx, h.Backend, tags...)
}
