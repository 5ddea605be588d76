package hitboxtest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hitbox-go/hitbox"
)

func (s *backendSuite) batchGet(t *testing.T) {
	b, c := s.fresh(t)
	ctx := context.Background()
	now := s.now(c)
	mustSet(t, b, "a", hitbox.Entry{Value: []byte("A"), Expire: now.Add(time.Hour), Stale: now.Add(time.Minute)})
	mustSet(t, b, "b", hitbox.Entry{Value: []byte{}})
	mustSet(t, b, "c", hitbox.Entry{Value: value(s.upTo(1<<10), 3)})
	keys := []string{"a", "x", "b", "a", "c", "x", "y"}
	if !s.opts.RealTime {
		mustSet(t, b, "soon", hitbox.Entry{Value: []byte("S"), Expire: now.Add(time.Second)})
		c.Advance(time.Second)
		keys = append(keys, "soon")
	}
	want := loopGet(ctx, b, keys)
	for _, path := range paths(b) {
		got, err := hitbox.GetMany(ctx, path.b, keys)
		if err != nil {
			t.Fatalf("%s GetMany: %v", path.name, err)
		}
		if d := diffResults(got, want, s.tol, s.opts.DropsStale); d != "" {
			t.Errorf("%s GetMany%q differs from one Get per key: %s", path.name, keys, d)
		}
	}
}

func (s *backendSuite) batchSet(t *testing.T) {
	b, c := s.fresh(t)
	ctx := context.Background()
	now := s.now(c)
	items := func(prefix string) []hitbox.Item {
		return []hitbox.Item{
			{Key: prefix + "a", Entry: hitbox.Entry{Value: []byte("A"), Expire: now.Add(time.Hour), Stale: now.Add(time.Minute)}},
			{Key: prefix + "b", Entry: hitbox.Entry{Value: []byte("first")}},
			{Key: prefix + "c", Entry: hitbox.Entry{Value: value(s.upTo(1<<10), 4)}},
			{Key: prefix + "b", Entry: hitbox.Entry{Value: []byte("last wins")}},
			{Key: prefix + "gone", Entry: hitbox.Entry{Value: []byte("G"), Expire: now.Add(-time.Second)}},
		}
	}
	want := []hitbox.Result{
		{Entry: items("")[0].Entry},
		{Entry: items("")[3].Entry},
		{Entry: items("")[2].Entry},
		{Err: hitbox.ErrMiss},
	}
	for _, path := range paths(b) {
		p := path.name + ":"
		if err := hitbox.SetMany(ctx, path.b, items(p)); err != nil {
			t.Fatalf("%s SetMany: %v", path.name, err)
		}
		got := loopGet(ctx, b, []string{p + "a", p + "b", p + "c", p + "gone"})
		if d := diffResults(got, want, s.tol, s.opts.DropsStale); d != "" {
			t.Errorf("%s SetMany then Get: %s", path.name, d)
		}
	}
}

func (s *backendSuite) batchDelete(t *testing.T) {
	b, _ := s.fresh(t)
	ctx := context.Background()
	for _, path := range paths(b) {
		p := path.name + ":"
		for _, k := range []string{"a", "b", "c"} {
			mustSet(t, b, p+k, hitbox.Entry{Value: []byte(k)})
		}
		if err := hitbox.DeleteMany(ctx, path.b, []string{p + "a", p + "absent", p + "c", p + "a"}); err != nil {
			t.Fatalf("%s DeleteMany: %v", path.name, err)
		}
		got := loopGet(ctx, b, []string{p + "a", p + "b", p + "c"})
		want := []hitbox.Result{{Err: hitbox.ErrMiss}, {Entry: hitbox.Entry{Value: []byte("b")}}, {Err: hitbox.ErrMiss}}
		if d := diffResults(got, want, s.tol, s.opts.DropsStale); d != "" {
			t.Errorf("%s DeleteMany then Get: %s", path.name, d)
		}
	}
}

func (s *backendSuite) emptyBatches(t *testing.T) {
	b, _ := s.fresh(t)
	ctx := context.Background()
	if res, err := hitbox.GetMany(ctx, b, nil); err != nil || len(res) != 0 {
		t.Errorf("GetMany of no keys = %v, %v; want no results and nil", res, err)
	}
	if err := hitbox.SetMany(ctx, b, nil); err != nil {
		t.Errorf("SetMany of no items: %v", err)
	}
	if err := hitbox.DeleteMany(ctx, b, nil); err != nil {
		t.Errorf("DeleteMany of no keys: %v", err)
	}
}

func (s *backendSuite) clear(t *testing.T) {
	b, _ := s.fresh(t)
	if _, ok := b.(hitbox.Clearer); !ok {
		t.Skip("not a hitbox.Clearer")
	}
	ctx := context.Background()
	keys := []string{"a", "b", "c"}
	for _, k := range keys {
		mustSet(t, b, k, hitbox.Entry{Value: []byte(k)})
	}
	err := hitbox.Clear(ctx, b)
	if errors.Is(err, hitbox.ErrNotSupported) {
		t.Skipf("Clear refused: %v", err)
	}
	if err != nil {
		t.Fatalf("Clear: %v", err)
	}
	for _, k := range keys {
		wantMiss(t, b, k)
	}
	mustSet(t, b, "after", hitbox.Entry{Value: []byte("v")})
	mustGet(t, b, "after")
}

// prefixKeys are the keys clearPrefix writes: some under each prefix it
// clears, and some that only a prefix read as a pattern, a prefix cut
// short or a match anywhere in the key would remove.
var prefixKeys = []string{"a:1", "a:2", "a:", "ab", "b:a:1", "A:1", "a*1", "a?", "[a]1", "a1", `a\1`, "xa:1"}

func (s *backendSuite) clearPrefix(t *testing.T) {
	b, _ := s.fresh(t)
	pc, ok := b.(hitbox.PrefixClearer)
	if !ok {
		t.Skip("not a hitbox.PrefixClearer")
	}
	ctx := context.Background()
	for _, k := range prefixKeys {
		mustSet(t, b, k, hitbox.Entry{Value: []byte(k)})
	}
	if err := pc.ClearPrefix(ctx, ""); !errors.Is(err, hitbox.ErrInvalidKey) {
		t.Errorf("ClearPrefix with an empty prefix: %v, want ErrInvalidKey (Clear removes everything)", err)
	}
	if err := hitbox.ClearPrefix(ctx, b, ""); !errors.Is(err, hitbox.ErrInvalidKey) {
		t.Errorf("hitbox.ClearPrefix with an empty prefix: %v, want ErrInvalidKey", err)
	}
	gone := map[string]bool{}
	for _, step := range []struct {
		prefix string
		clears []string
	}{
		{"a:", []string{"a:1", "a:2", "a:"}},
		{"a*", []string{"a*1"}},
		{"a?", []string{"a?"}},
		{"[a]", []string{"[a]1"}},
		{`a\`, []string{`a\1`}},
	} {
		err := hitbox.ClearPrefix(ctx, b, step.prefix)
		if errors.Is(err, hitbox.ErrNotSupported) {
			t.Skipf("ClearPrefix refused: %v", err)
		}
		if err != nil {
			t.Fatalf("ClearPrefix(%q): %v", step.prefix, err)
		}
		for _, k := range step.clears {
			gone[k] = true
		}
		for _, k := range prefixKeys {
			e, err := b.Get(ctx, k)
			switch {
			case gone[k] && !isMiss(err):
				t.Errorf("after ClearPrefix(%q), Get %q = %s, %v; want a miss", step.prefix, k, show(e.Value), err)
			case !gone[k] && err != nil:
				t.Errorf("after ClearPrefix(%q), Get %q: %v; the key is not under the prefix and must stay", step.prefix, k, err)
			}
		}
		if t.Failed() {
			return
		}
	}
	mustSet(t, b, "a:after", hitbox.Entry{Value: []byte("v")})
	mustGet(t, b, "a:after")
}

// namespace writes the same keys through the backend and its sibling and
// clears the backend: the sibling's keys must stay.
func (s *backendSuite) namespace(t *testing.T) {
	if s.opts.Sibling == nil {
		t.Skip("Options.Sibling is not set")
	}
	b, _ := s.fresh(t)
	sib := s.opts.Sibling(t, b)
	if sib == nil {
		t.Fatal("Sibling returned nil")
	}
	ctx := context.Background()
	keys := []string{"a:1", "z"}
	write := func() {
		for _, k := range keys {
			mustSet(t, b, k, hitbox.Entry{Value: []byte("mine")})
			mustSet(t, sib, k, hitbox.Entry{Value: []byte("sibling's")})
		}
	}
	check := func(what string, mine []string) {
		t.Helper()
		for _, k := range mine {
			wantMiss(t, b, k)
		}
		for _, k := range keys {
			if e, err := sib.Get(ctx, k); err != nil || string(e.Value) != "sibling's" {
				t.Errorf("after %s, the sibling's %q = %s, %v; want it untouched", what, k, show(e.Value), err)
			}
		}
	}
	tried := false
	if _, ok := b.(hitbox.Clearer); ok {
		write()
		if err := hitbox.Clear(ctx, b); err == nil {
			tried = true
			check("Clear", keys)
		} else if !errors.Is(err, hitbox.ErrNotSupported) {
			t.Fatalf("Clear: %v", err)
		}
	}
	if _, ok := b.(hitbox.PrefixClearer); ok {
		write()
		if err := hitbox.ClearPrefix(ctx, b, "a:"); err == nil {
			tried = true
			check(`ClearPrefix("a:")`, keys[:1])
		} else if !errors.Is(err, hitbox.ErrNotSupported) {
			t.Fatalf("ClearPrefix: %v", err)
		}
	}
	if !tried {
		t.Skip("neither Clear nor ClearPrefix is supported")
	}
}

func (s *backendSuite) remove(t *testing.T) {
	b, c := s.fresh(t)
	ctx := context.Background()
	for _, path := range paths(b) {
		p := path.name + ":"
		mustSet(t, b, p+"k", hitbox.Entry{Value: []byte("v")})
		for _, step := range []struct {
			key  string
			want bool
		}{
			{p + "k", true},
			{p + "k", false},
			{p + "absent", false},
		} {
			removed, err := hitbox.Remove(ctx, path.b, step.key)
			if err != nil {
				t.Fatalf("%s Remove(%q): %v", path.name, step.key, err)
			}
			if removed != step.want {
				t.Errorf("%s Remove(%q) = %v, want %v", path.name, step.key, removed, step.want)
			}
			wantMiss(t, b, step.key)
		}
		if !s.opts.RealTime {
			mustSet(t, b, p+"old", hitbox.Entry{Value: []byte("v"), Expire: c.Now().Add(time.Minute)})
			c.Advance(time.Minute)
			if removed, err := hitbox.Remove(ctx, path.b, p+"old"); err != nil || removed {
				t.Errorf("%s Remove of an expired entry = %v, %v; want false, nil", path.name, removed, err)
			}
		}
	}
}

func (s *backendSuite) close(t *testing.T) {
	b, _ := s.fresh(t)
	cl, ok := b.(hitbox.Closer)
	if !ok {
		t.Skip("not a hitbox.Closer")
	}
	mustSet(t, b, "k", hitbox.Entry{Value: []byte("v")})
	if err := cl.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := cl.Close(); err != nil {
		t.Errorf("second Close: %v, want nil", err)
	}
	for _, path := range paths(b) {
		for op, err := range everyOp(path.b, "k", hitbox.Entry{Value: []byte("w")}) {
			if !errors.Is(err, hitbox.ErrClosed) {
				t.Errorf("%s %s after Close: %v, want ErrClosed", path.name, op, err)
			}
		}
	}
	if _, ok := b.(hitbox.Clearer); ok {
		if err := hitbox.Clear(context.Background(), b); !errors.Is(err, hitbox.ErrClosed) && !errors.Is(err, hitbox.ErrNotSupported) {
			t.Errorf("Clear after Close: %v, want ErrClosed", err)
		}
	}
	if _, ok := b.(hitbox.PrefixClearer); ok {
		if err := hitbox.ClearPrefix(context.Background(), b, "k"); !errors.Is(err, hitbox.ErrClosed) && !errors.Is(err, hitbox.ErrNotSupported) {
			t.Errorf("ClearPrefix after Close: %v, want ErrClosed", err)
		}
	}
}

func (s *layerSuite) abilities(t *testing.T) {
	top := s.fresh(t).top
	if _, ok := top.(hitbox.BatchGetter); !ok {
		t.Error("not a hitbox.BatchGetter: a batch read would turn into a loop above the store")
	}
	if _, ok := top.(hitbox.BatchSetter); !ok {
		t.Error("not a hitbox.BatchSetter: a batch write would turn into a loop above the store")
	}
	if _, ok := top.(hitbox.BatchDeleter); !ok {
		t.Error("not a hitbox.BatchDeleter: a batch delete would turn into a loop above the store")
	}
	if _, ok := top.(hitbox.Clearer); !ok {
		t.Error("not a hitbox.Clearer: Clear would not reach the store")
	}
	if _, ok := top.(hitbox.PrefixClearer); !ok {
		t.Error("not a hitbox.PrefixClearer: ClearPrefix would not reach the store")
	}
	if _, ok := top.(hitbox.Remover); !ok {
		t.Error("not a hitbox.Remover: Remove would turn into a Get and a Delete above the store")
	}
	if _, ok := top.(hitbox.Closer); !ok {
		t.Error("not a hitbox.Closer: Close would not reach the store")
	}
	if _, ok := top.(hitbox.Locker); !ok {
		t.Error("not a hitbox.Locker: a lock would not reach the store")
	}
	if _, ok := top.(hitbox.Leaser); !ok {
		t.Error("not a hitbox.Leaser: a load's store would not be checked against the changes that crossed it")
	}
}

func (s *layerSuite) batches(t *testing.T) {
	st := s.fresh(t)
	ctx := context.Background()
	now := st.clock.Now()
	f := st.fault
	items := []hitbox.Item{
		{Key: "a", Entry: hitbox.Entry{Value: []byte("A"), Expire: now.Add(time.Hour), Stale: now.Add(time.Minute)}},
		{Key: "b", Entry: hitbox.Entry{Value: []byte{}}},
		{Key: "c", Entry: hitbox.Entry{Value: value(smallValue, 9)}},
		{Key: "b", Entry: hitbox.Entry{Value: []byte("last wins")}},
	}

	sets, setManys := f.Calls(hitbox.OpSet), f.Calls(hitbox.OpSetMany)
	if err := hitbox.SetMany(ctx, st.top, items); err != nil {
		t.Fatalf("SetMany: %v", err)
	}
	if f.Calls(hitbox.OpSetMany) == setManys || f.Calls(hitbox.OpSet) != sets {
		t.Errorf("SetMany reached the store as %d SetMany and %d Set calls, want SetMany only",
			f.Calls(hitbox.OpSetMany)-setManys, f.Calls(hitbox.OpSet)-sets)
	}
	if err := hitbox.SetMany(ctx, basic{st.top}, []hitbox.Item{{Key: "fa", Entry: items[0].Entry}, {Key: "fb", Entry: items[3].Entry}}); err != nil {
		t.Fatalf("SetMany by loop: %v", err)
	}

	keys := []string{"a", "x", "b", "a", "c", "fa", "fb", "x"}
	want := []hitbox.Result{
		{Entry: items[0].Entry}, {Err: hitbox.ErrMiss}, {Entry: items[3].Entry}, {Entry: items[0].Entry},
		{Entry: items[2].Entry}, {Entry: items[0].Entry}, {Entry: items[3].Entry}, {Err: hitbox.ErrMiss},
	}
	if d := diffResults(loopGet(ctx, st.top, keys), want, 0, false); d != "" {
		t.Errorf("one Get per key after SetMany: %s", d)
	}
	gets, getManys := f.Calls(hitbox.OpGet), f.Calls(hitbox.OpGetMany)
	got, err := hitbox.GetMany(ctx, st.top, keys)
	if err != nil {
		t.Fatalf("GetMany: %v", err)
	}
	if f.Calls(hitbox.OpGetMany) == getManys || f.Calls(hitbox.OpGet) != gets {
		t.Errorf("GetMany reached the store as %d GetMany and %d Get calls, want GetMany only",
			f.Calls(hitbox.OpGetMany)-getManys, f.Calls(hitbox.OpGet)-gets)
	}
	if d := diffResults(got, want, 0, false); d != "" {
		t.Errorf("GetMany%q differs from one Get per key: %s", keys, d)
	}

	dels, delManys := f.Calls(hitbox.OpDelete), f.Calls(hitbox.OpDeleteMany)
	if err := hitbox.DeleteMany(ctx, st.top, []string{"a", "absent", "c", "a"}); err != nil {
		t.Fatalf("DeleteMany: %v", err)
	}
	if f.Calls(hitbox.OpDeleteMany) == delManys || f.Calls(hitbox.OpDelete) != dels {
		t.Errorf("DeleteMany reached the store as %d DeleteMany and %d Delete calls, want DeleteMany only",
			f.Calls(hitbox.OpDeleteMany)-delManys, f.Calls(hitbox.OpDelete)-dels)
	}
	if err := hitbox.DeleteMany(ctx, basic{st.top}, []string{"fa", "absent"}); err != nil {
		t.Fatalf("DeleteMany by loop: %v", err)
	}
	keys = []string{"a", "b", "c", "fa", "fb"}
	want = []hitbox.Result{{Err: hitbox.ErrMiss}, {Entry: items[3].Entry}, {Err: hitbox.ErrMiss}, {Err: hitbox.ErrMiss}, {Entry: items[3].Entry}}
	if d := diffResults(loopGet(ctx, st.top, keys), want, 0, false); d != "" {
		t.Errorf("one Get per key after DeleteMany: %s", d)
	}
}

func (s *layerSuite) clear(t *testing.T) {
	st := s.fresh(t)
	mustSet(t, st.top, "a", hitbox.Entry{Value: []byte("A")})
	err := hitbox.Clear(context.Background(), st.top)
	if refusedClear(st, err) {
		if st.store.Len() != 1 {
			t.Errorf("the layer refused Clear but the store holds %d entries, want 1", st.store.Len())
		}
		t.Skipf("the layer refuses Clear: %v", err)
	}
	if err != nil {
		t.Fatalf("Clear: %v", err)
	}
	if n := clears(st); n != 1 {
		t.Errorf("Clear reached the store as %d Clear or ClearPrefix calls, want one", n)
	}
	wantMiss(t, st.top, "a")
}

// prefixAndRemove checks that ClearPrefix removes what the layer wrote
// under the prefix and no more, and that Remove reaches the store as one
// Remove and says whether there was an entry.
func (s *layerSuite) prefixAndRemove(t *testing.T) {
	st := s.fresh(t)
	ctx := context.Background()
	f := st.fault
	for _, k := range []string{"p:1", "p:2", "q:1", "pq"} {
		mustSet(t, st.top, k, hitbox.Entry{Value: []byte(k)})
	}
	before := clears(st)
	err := hitbox.ClearPrefix(ctx, st.top, "p:")
	switch {
	case refusedClear(st, err):
		t.Logf("the layer refuses ClearPrefix: %v", err)
	case err != nil:
		t.Fatalf("ClearPrefix: %v", err)
	default:
		if n := clears(st) - before; n != 1 {
			t.Errorf("ClearPrefix reached the store as %d Clear or ClearPrefix calls, want one", n)
		}
		wantMiss(t, st.top, "p:1")
		wantMiss(t, st.top, "p:2")
		mustGet(t, st.top, "q:1")
		mustGet(t, st.top, "pq")
	}

	gets, dels, removes := f.Calls(hitbox.OpGet), f.Calls(hitbox.OpDelete), f.Calls(hitbox.OpRemove)
	for _, step := range []struct {
		key  string
		want bool
	}{{"q:1", true}, {"q:1", false}, {"absent", false}} {
		removed, err := hitbox.Remove(ctx, st.top, step.key)
		if err != nil {
			t.Fatalf("Remove(%q): %v", step.key, err)
		}
		if removed != step.want {
			t.Errorf("Remove(%q) = %v, want %v", step.key, removed, step.want)
		}
	}
	if f.Calls(hitbox.OpRemove)-removes != 3 || f.Calls(hitbox.OpGet) != gets || f.Calls(hitbox.OpDelete) != dels {
		t.Errorf("three Removes reached the store as %d Remove, %d Get and %d Delete calls, want Remove only",
			f.Calls(hitbox.OpRemove)-removes, f.Calls(hitbox.OpGet)-gets, f.Calls(hitbox.OpDelete)-dels)
	}
	wantMiss(t, st.top, "q:1")
}

func (s *layerSuite) close(t *testing.T) {
	st := s.fresh(t)
	if err := hitbox.Close(st.top); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if st.fault.Calls(hitbox.OpClose) == 0 {
		t.Fatal("Close did not reach the store")
	}
	if err := hitbox.Close(st.top); err != nil {
		t.Errorf("second Close: %v, want nil", err)
	}
	for op, err := range everyOp(st.top, "k", hitbox.Entry{Value: []byte("v")}) {
		if !errors.Is(err, hitbox.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", op, err)
		}
	}
}
