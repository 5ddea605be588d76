package benchmarks

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	rcache "github.com/go-redis/cache/v9"

	"github.com/hitbox-go/hitbox/cache"
	"github.com/hitbox-go/hitbox/store/redisstore"
	"github.com/hitbox-go/hitbox/tier"
)

// stampedeCallers is how many goroutines ask for one cold key at once, in
// all processes together.
const stampedeCallers = 1000

// loadTime is how long the source takes to answer: a fast database query.
const loadTime = time.Millisecond

// stampedeLockTTL is hitbox's Options.LockTTL in the lock contender: the
// waiting processes give up on the holder after it (LockWait defaults to
// it), far beyond any stampede here.
const stampedeLockTTL = 10 * time.Second

// Environment of a stampede child process (see TestStampedeChild).
const (
	childImplEnv    = "HITBOX_BENCH_STAMPEDE_IMPL"
	childPrefixEnv  = "HITBOX_BENCH_STAMPEDE_PREFIX"
	childCallersEnv = "HITBOX_BENCH_STAMPEDE_CALLERS"
)

// stampedeImpls are the contenders of BenchmarkStampede, all over a
// process-local level in front of a shared Redis: hitbox's Cache[Doc] over
// tier.New(memstore, redisstore) without and with LockTTL, and
// go-redis/cache with TinyLFU and Redis through Once, its stampede API.
var stampedeImpls = []string{"hitbox", "hitbox-lock", "go-redis-cache"}

// BenchmarkStampede times stampedes: stampedeCallers goroutines call
// GetOrLoad (go-redis/cache: Once) on the same cold key at the same
// instant, the loader taking loadTime. Each operation is one stampede on
// a new key. It reports loads (loader calls per stampede: 1 is perfect)
// and ms/stampede (from the release of the callers until the last has its
// value). processes=4 splits the callers over 4 child processes of the
// test binary sharing the Redis server, as 4 instances of a service would;
// their loader calls are summed.
//
// Each contender's Redis client is the one its documentation starts from:
// redisstore.ClientOptions for hitbox (a pool of 10 connections per CPU
// that a caller waits at most 200 ms for), go-redis's defaults for
// go-redis/cache (the same pool, waited for up to 4 s). hitbox's
// GetOrLoad reads the cache once per caller before it joins the key's
// load, so a stampede sends every caller to Redis; go-redis/cache's Once
// reads Redis inside its singleflight, once per key. On a busy machine
// hitbox's callers can then time out on the pool, count as a cache
// failure (opening the tier's breaker) and load: loads above 1 in one
// process come from there.
func BenchmarkStampede(b *testing.B) {
	for _, procs := range []int{1, 4} {
		for _, impl := range stampedeImpls {
			name := fmt.Sprintf("callers=%d/processes=%d/impl=%s", stampedeCallers, procs, impl)
			b.Run(name, func(b *testing.B) {
				if procs == 1 && impl == "hitbox-lock" {
					b.Skip("impl is the cross-process lock: in one process GetOrLoad already loads once (impl=hitbox)")
				}
				var s stampeder
				if procs == 1 {
					s = newCrowd(b, impl, redisPrefix("stampede"), stampedeCallers)
				} else {
					s = startFleet(b, impl, procs, stampedeCallers/procs)
				}
				defer s.close()
				stampedeLoop(b, s)
			})
		}
	}
}

// stampedeLoop runs one stampede per operation and reports loads and
// ms/stampede.
func stampedeLoop(b *testing.B, s stampeder) {
	b.ReportAllocs()
	var loads int
	var wall time.Duration
	i := 0
	for b.Loop() {
		n, d, err := s.round("cold:" + strconv.Itoa(i))
		if err != nil {
			b.Fatal(err)
		}
		loads += n
		wall += d
		i++
	}
	b.ReportMetric(float64(loads)/float64(i), "loads")
	b.ReportMetric(wall.Seconds()*1000/float64(i), "ms/stampede")
}

// stampeder runs stampedes on keys it has never seen.
type stampeder interface {
	// round runs one stampede on key and returns the loader calls it
	// took and how long it lasted.
	round(key string) (loads int, took time.Duration, err error)
	close()
}

// crowd is the callers of one process.
type crowd struct {
	callers int
	call    func(key string) error // one caller's GetOrLoad
	loads   atomic.Int64
	after   []func()
}

// loadDoc is the source: it counts its calls and takes loadTime.
func (c *crowd) loadDoc() Doc {
	c.loads.Add(1)
	time.Sleep(loadTime)
	return *stampedeDoc
}

// stampedeDoc is what the source answers: a 1 KiB record.
var stampedeDoc = newDoc(rand.New(rand.NewPCG(1, 2)), 1, 1<<10)

// newCrowd opens impl over the shared Redis, keys under prefix, for a
// crowd of callers.
func newCrowd(tb testing.TB, impl, prefix string, callers int) *crowd {
	tb.Helper()
	c := &crowd{callers: callers}
	addr := redisAddr(tb)
	switch impl {
	case "hitbox", "hitbox-lock":
		client := hitboxClient(addr)
		l2, err := redisstore.New(client, redisstore.Options{Prefix: prefix})
		if err != nil {
			_ = client.Close()
			tb.Fatal(err)
		}
		l1 := newDocMemstore(tb)
		t := tier.New(l1, l2)
		o := docOptions()
		if impl == "hitbox-lock" {
			o.LockTTL = stampedeLockTTL
		}
		cache := cache.New[Doc](t, o)
		load := func(context.Context) (Doc, error) { return c.loadDoc(), nil }
		c.call = func(key string) error {
			v, err := cache.GetOrLoad(ctx, key, load)
			if err == nil && v.ID != stampedeDoc.ID {
				err = errors.New("GetOrLoad answered the wrong record")
			}
			return err
		}
		c.after = []func(){func() { _ = cache.Close() }, func() { _ = t.Close() }, func() { _ = l1.Close() },
			func() { _ = l2.Close(); dropKeys(client, prefix); _ = client.Close() }}
	case "go-redis-cache":
		client := plainClient(addr)
		cache := rcache.New(&rcache.Options{Redis: client, LocalCache: rcache.NewTinyLFU(10_000, docTTL)})
		do := func(*rcache.Item) (any, error) { d := c.loadDoc(); return &d, nil }
		c.call = func(key string) error {
			var v Doc
			err := cache.Once(&rcache.Item{Ctx: ctx, Key: prefix + key, Value: &v, TTL: docTTL, Do: do})
			if err == nil && v.ID != stampedeDoc.ID {
				err = errors.New("Once answered the wrong record")
			}
			return err
		}
		c.after = []func(){func() { dropKeys(client, prefix); _ = client.Close() }}
	default:
		tb.Fatalf("no stampede contender %q", impl)
	}
	return c
}

func (c *crowd) round(key string) (int, time.Duration, error) {
	before := c.loads.Load()
	start := make(chan struct{})
	var wg sync.WaitGroup
	var failure atomic.Pointer[error]
	for range c.callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if err := c.call(key); err != nil {
				failure.Store(&err)
			}
		}()
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	took := time.Since(t0)
	if p := failure.Load(); p != nil {
		return 0, took, *p
	}
	return int(c.loads.Load() - before), took, nil
}

func (c *crowd) close() {
	for _, f := range c.after {
		f()
	}
}

// fleet is a crowd in each of several child processes of the test binary.
// It writes each round's key on every child's standard input and reads
// each child's loader calls from its file descriptor 3.
type fleet struct {
	cmds []*exec.Cmd
	in   []io.WriteCloser
	out  []*bufio.Reader
	done []io.Closer
}

// startFleet starts procs children running TestStampedeChild, each with a
// crowd of callers, all under one key prefix.
func startFleet(tb testing.TB, impl string, procs, callers int) *fleet {
	tb.Helper()
	f := &fleet{}
	env := append(os.Environ(),
		redisEnv+"="+redisAddr(tb),
		childImplEnv+"="+impl,
		childPrefixEnv+"="+redisPrefix("stampede-"+impl),
		childCallersEnv+"="+strconv.Itoa(callers),
	)
	for range procs {
		cmd := exec.Command(os.Args[0], "-test.run=^TestStampedeChild$", "-test.count=1")
		cmd.Env = env
		cmd.Stderr = os.Stderr
		in, err := cmd.StdinPipe()
		if err != nil {
			f.close()
			tb.Fatal(err)
		}
		r, w, err := os.Pipe()
		if err != nil {
			f.close()
			tb.Fatal(err)
		}
		cmd.ExtraFiles = []*os.File{w}
		if err := cmd.Start(); err != nil {
			f.close()
			tb.Fatal(err)
		}
		_ = w.Close() // the child holds its own copy
		f.cmds, f.in, f.out, f.done = append(f.cmds, cmd), append(f.in, in), append(f.out, bufio.NewReader(r)), append(f.done, r)
	}
	// Every child answers a first round once it is connected, so no
	// timed round pays for a start.
	if _, _, err := f.round("warm-up"); err != nil {
		f.close()
		tb.Fatal(err)
	}
	return f
}

func (f *fleet) round(key string) (int, time.Duration, error) {
	t0 := time.Now()
	for _, in := range f.in {
		if _, err := io.WriteString(in, key+"\n"); err != nil {
			return 0, 0, fmt.Errorf("stampede child: %w", err)
		}
	}
	loads := 0
	for _, out := range f.out {
		line, err := out.ReadString('\n')
		if err != nil {
			return 0, 0, fmt.Errorf("stampede child ended early: %w", err)
		}
		n, err := strconv.Atoi(strings.TrimSpace(line))
		if err != nil {
			return 0, 0, fmt.Errorf("stampede child said %q: %s", line, strings.TrimPrefix(line, "error "))
		}
		loads += n
	}
	return loads, time.Since(t0), nil
}

// close ends the children (their input closes) and waits for them.
func (f *fleet) close() {
	for _, in := range f.in {
		_ = in.Close()
	}
	for _, cmd := range f.cmds {
		_ = cmd.Wait()
	}
	for _, c := range f.done {
		_ = c.Close()
	}
}

// TestStampedeChild is the body of a stampede child process: started by
// startFleet with childImplEnv set, it runs a crowd for every key it reads
// on standard input and writes the loader calls of each round, or "error
// <why>", on file descriptor 3. Run any other way it skips.
func TestStampedeChild(t *testing.T) {
	impl := os.Getenv(childImplEnv)
	if impl == "" {
		t.Skip("only run as a child of BenchmarkStampede")
	}
	callers, err := strconv.Atoi(os.Getenv(childCallersEnv))
	if err != nil || callers <= 0 {
		t.Fatalf("%s=%q: want a positive count", childCallersEnv, os.Getenv(childCallersEnv))
	}
	out := os.NewFile(3, "results")
	if out == nil {
		t.Fatal("no file descriptor 3 to write results to")
	}
	defer out.Close()
	c := newCrowd(t, impl, os.Getenv(childPrefixEnv), callers)
	defer c.close()
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		n, _, err := c.round(in.Text())
		if err != nil {
			fmt.Fprintf(out, "error %v\n", err)
			continue
		}
		fmt.Fprintf(out, "%d\n", n)
	}
}
