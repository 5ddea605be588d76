package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox"
	"github.com/hitbox-go/hitbox/codec"
	"github.com/hitbox-go/hitbox/httpcache"
	"github.com/hitbox-go/hitbox/internal/redistest"
	"github.com/hitbox-go/hitbox/layer"
	"github.com/hitbox-go/hitbox/store/redisstore"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden with the output")

// TestMain shares one server and one cluster between the tests (each
// keeps to a prefix of its own) and checks that no goroutine outlives
// them: every command closes its client.
func TestMain(m *testing.M) {
	redistest.Quiet()
	os.Exit(redistest.Main(m))
}

// now0 is the clock of every command and of the stores that write the
// fixtures, so deadlines render the same on every run.
var now0 = time.Date(2030, 1, 2, 12, 0, 0, 0, time.UTC)

// result is what one command line did.
type result struct {
	out, err string
	code     int
}

// hitboxCmd runs a command line with stdin and the fixed clock.
func hitboxCmd(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var o, e bytes.Buffer
	code := run(context.Background(), args, &env{
		stdin: strings.NewReader(stdin), stdout: &o, stderr: &e,
		getenv: func(string) string { return "" },
		now:    func() time.Time { return now0 },
	})
	return result{o.String(), e.String(), code}
}

// user is a typed value as the tour stores it: CBOR with integer keys.
type user struct {
	ID    int64    `cbor:"1,keyasint" msgpack:"id"`
	Name  string   `cbor:"2,keyasint" msgpack:"name"`
	Roles []string `cbor:"3,keyasint" msgpack:"roles"`
}

// plant writes the fixtures under prefix through real pipelines over a
// store whose clock is now0, and damages some of them in place.
func plant(t *testing.T, rdb redis.UniversalClient, prefix string) {
	t.Helper()
	ctx := context.Background()
	st, err := redisstore.New(rdb, redisstore.Options{Prefix: prefix, Now: func() time.Time { return now0 }})
	if err != nil {
		t.Fatal(err)
	}
	typed := hitbox.Chain(layer.Compress(codec.Zstd()), layer.Encode()).Then(st)
	entry := func(v []byte) hitbox.Entry {
		return hitbox.Entry{Value: v, Expire: now0.Add(time.Minute), Stale: now0.Add(50 * time.Second)}
	}
	marshal := func(f codec.Format, v any) []byte {
		b, err := f.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ada := user{ID: 1, Name: "Ada Lovelace", Roles: []string{"admin"}}
	var list []user
	for i := range 12 {
		list = append(list, user{ID: int64(i), Name: fmt.Sprintf("user %d", i), Roles: []string{"reader"}})
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(typed.Set(ctx, "users:v1:id=1", entry(marshal(codec.CBOR(), ada))))
	must(typed.Set(ctx, "users:all", entry(marshal(codec.JSON(), list))))
	must(typed.Set(ctx, "users:mp", entry(marshal(codec.MsgPack(), ada))))
	must(hitbox.SetTagged(ctx, typed, "orders:1", entry([]byte(`{"order":1,"total":"9.90"}`)), "user:1", "orders"))
	must(st.InvalidateTags(ctx, "orders"))
	must(st.Set(ctx, "note", hitbox.Entry{Value: []byte("plain text, no layers")}))
	must(st.Set(ctx, "blob", hitbox.Entry{Value: []byte{0xde, 0xad, 0xbe, 0xef, 0x00}, Expire: now0.Add(time.Hour)}))

	// An HTTP response, as httpcache stores it, and a varying one: an
	// index at its primary key and its variants beside it.
	hc := httpcache.New(st, httpcache.Options{Now: func() time.Time { return now0 }})
	defer hc.Close()
	site := hc.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", now0.Format(http.TimeFormat))
		w.Header().Set("Cache-Control", "max-age=300")
		w.Header().Set("Etag", `"v1"`)
		w.Header().Set("Content-Type", "text/plain")
		if r.URL.Path == "/varied" {
			w.Header().Set("Vary", "Accept-Encoding")
		} else {
			w.Header().Set("Surrogate-Key", "docs")
		}
		fmt.Fprint(w, "hello from the origin")
	}))
	for _, req := range []struct{ path, ae string }{{"/page", ""}, {"/varied", "gzip"}, {"/varied", ""}} {
		r := httptest.NewRequest("GET", "http://example.com"+req.path, nil)
		if req.ae != "" {
			r.Header.Set("Accept-Encoding", req.ae)
		}
		site.ServeHTTP(httptest.NewRecorder(), r)
	}

	// Damage: a flipped byte in an envelope's value, a zstd value cut
	// short, a tag section cut short, and a value another program wrote.
	must(typed.Set(ctx, "damaged:envelope", entry([]byte("a value the checksum covers"))))
	raw := func(key string) []byte {
		b, err := rdb.Get(ctx, prefix+key).Bytes()
		must(err)
		return b
	}
	b := raw("damaged:envelope")
	b[len(b)-1] ^= 0x20
	must(rdb.Set(ctx, prefix+"damaged:envelope", b, 0).Err())
	compressed := hitbox.Chain(layer.Compress(codec.Zstd())).Then(st) // no envelope: no checksum
	must(compressed.Set(ctx, "damaged:zstd", entry(bytes.Repeat([]byte("compressible "), 100))))
	b = raw("damaged:zstd")
	must(rdb.Set(ctx, prefix+"damaged:zstd", b[:len(b)-20], 0).Err())
	must(hitbox.SetTagged(ctx, st, "damaged:tags", hitbox.Entry{Value: []byte("x")}, "a-tag"))
	b = raw("damaged:tags")
	must(rdb.Set(ctx, prefix+"damaged:tags", b[:30], 0).Err())
	must(rdb.Set(ctx, prefix+"foreign", "written by someone else", 0).Err())
}

// normalise replaces what changes between runs: Redis TTLs (counted by
// the server's clock) and tag versions (random).
func normalise(s string) string {
	for _, r := range []struct{ re, with string }{
		{`TTL [0-9hmsµ.]+`, "TTL <ttl>"},
		{`"redis_ttl_ms": \d+`, `"redis_ttl_ms": <ttl>`},
		{`"version": "[0-9a-f]{16}"`, `"version": "<version>"`},
		{`epoch [0-9a-f]+`, "epoch <epoch>"},
		{`"epoch": "[0-9a-f]+"`, `"epoch": "<epoch>"`},
		{`\\x00[0-9a-f]+\\x00`, `\x00<epoch>\x00`},
	} {
		s = regexp.MustCompile(r.re).ReplaceAllString(s, r.with)
	}
	return s
}

// golden compares got with testdata/name.golden, or rewrites it with
// -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s:\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}

// TestInspectGolden renders every kind of stored value, whole and
// damaged, as text and JSON, and compares with the golden files.
func TestInspectGolden(t *testing.T) {
	t.Parallel()
	rdb := redistest.Shared(t).Client(t)
	const prefix = "golden:"
	plant(t, rdb, prefix)
	addr := redistest.Shared(t).Addr
	cases := []struct {
		name string // of the golden file; the sentence says what it shows
		args []string
		code int
	}{
		// A typed value through Compress and Encode: small, so stored as
		// it is, CBOR's integer keys as strings.
		{"cbor", []string{"inspect", "users:v1:id=1"}, 0},
		{"cbor-json", []string{"inspect", "--json", "users:v1:id=1"}, 0},
		// A larger value that zstd shrank.
		{"zstd-json-value", []string{"inspect", "users:all"}, 0},
		{"msgpack", []string{"inspect", "--format", "msgpack", "users:mp"}, 0},
		// One tag current, one purged.
		{"tagged", []string{"inspect", "orders:1"}, 0},
		{"tagged-json", []string{"inspect", "orders:1", "--json"}, 0},
		{"text", []string{"inspect", "note"}, 0},
		{"binary", []string{"inspect", "blob"}, 0},
		{"http-response", []string{"inspect", "http:v0:u=http%3A//example.com/page"}, 0},
		{"http-index", []string{"inspect", "http:v0:u=http%3A//example.com/varied"}, 0},
		{"damaged-envelope", []string{"inspect", "damaged:envelope"}, 0},
		{"damaged-zstd", []string{"inspect", "damaged:zstd"}, 0},
		{"damaged-tags", []string{"inspect", "damaged:tags"}, 0},
		{"foreign", []string{"inspect", "foreign"}, 0},
		{"foreign-json", []string{"inspect", "--json", "foreign"}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--redis", addr, "--prefix", prefix}, tc.args...)
			r := hitboxCmd(t, "", args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %s", r.code, tc.code, r.err)
			}
			golden(t, "inspect-"+tc.name, normalise(r.out))
		})
	}

	// The variants of the varying response, listed and read by key.
	r := hitboxCmd(t, "", "--redis", addr, "--prefix", prefix, "keys", "http:*varied*")
	if r.code != 0 {
		t.Fatalf("keys: exit %d: %s", r.code, r.err)
	}
	golden(t, "keys-variants", normalise(regexp.MustCompile(`(?m)^ +\d+ +[0-9hmsµ.]+`).ReplaceAllString(r.out, "<size> <ttl>")))
	var variant string
	for line := range strings.Lines(r.out) {
		if i := strings.Index(line, `"http:`); i >= 0 && strings.Contains(line, "gzip") {
			variant = strings.TrimSpace(line[i:])
		}
	}
	if variant == "" {
		t.Fatalf("no gzip variant listed:\n%s", r.out)
	}
	r = hitboxCmd(t, "", "--redis", addr, "--prefix", prefix, "inspect", variant)
	if r.code != 0 {
		t.Fatalf("inspect %s: exit %d: %s", variant, r.code, r.err)
	}
	golden(t, "inspect-http-variant", normalise(r.out))
}

// TestCommands runs every command that changes or lists what the store
// holds against a real server, checking what Redis holds afterwards.
func TestCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := redistest.Shared(t).Client(t)
	addr := redistest.Shared(t).Addr
	const prefix = "commands:"
	plant(t, rdb, prefix)
	if err := rdb.Set(ctx, "commands-other:x", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	h := func(stdin string, args ...string) result {
		t.Helper()
		return hitboxCmd(t, stdin, append([]string{"--redis", addr, "--prefix", prefix}, args...)...)
	}
	exists := func(key string) bool {
		n, err := rdb.Exists(ctx, prefix+key).Result()
		if err != nil {
			t.Fatal(err)
		}
		return n == 1
	}

	r := h("", "keys", "users:*")
	if r.code != 0 || !strings.Contains(r.out, "users:v1:id=1") || !strings.Contains(r.out, "3 keys under") || strings.Contains(r.out, "note") {
		t.Errorf("keys users:*: exit %d\n%s%s", r.code, r.out, r.err)
	}
	r = h("", "keys", "--limit", "2")
	if r.code != 0 || !strings.Contains(r.out, "the first 2 keys") {
		t.Errorf("keys --limit 2: exit %d\n%s%s", r.code, r.out, r.err)
	}
	r = h("", "keys", "--json", "users:v1:*")
	var listed struct {
		Keys []keyInfo `json:"keys"`
	}
	if err := json.Unmarshal([]byte(r.out), &listed); err != nil || len(listed.Keys) != 1 || listed.Keys[0].Size == 0 || listed.Keys[0].TTLms <= 0 {
		t.Errorf("keys --json: %v\n%s", err, r.out)
	}

	r = h("", "stats")
	if r.code != 0 || !strings.Contains(r.out, "3 tag versions") || !strings.Contains(r.out, "  user:1") || !strings.Contains(r.out, "14 keys") {
		t.Errorf("stats: exit %d\n%s%s", r.code, r.out, r.err)
	}

	r = h("", "delete", "note", "never-there")
	if r.code != 0 || !strings.Contains(r.out, "removed  note") || !strings.Contains(r.out, "absent   never-there") || exists("note") {
		t.Errorf("delete: exit %d\n%s%s", r.code, r.out, r.err)
	}

	r = h("", "purge", "--tag", "user:1")
	if r.code != 0 {
		t.Errorf("purge: exit %d %s", r.code, r.err)
	}
	if r = h("", "inspect", "orders:1"); !strings.Contains(r.out, "user:1 (purged: its version is gone)") {
		t.Errorf("after the purge, inspect says:\n%s", r.out)
	}

	// clear asks first: anything but yes keeps every key.
	r = h("n\n", "clear", "users:")
	if r.code != 1 || !strings.Contains(r.out, "remove the 3 keys under \"commands:users:\"") || !exists("users:all") {
		t.Errorf("clear answered no: exit %d\n%s%s", r.code, r.out, r.err)
	}
	r = h("yes\n", "clear", "users:")
	if r.code != 0 || exists("users:all") || !exists("blob") {
		t.Errorf("clear users: answered yes: exit %d\n%s%s", r.code, r.out, r.err)
	}
	r = h("", "clear", "--yes")
	if r.code != 0 || exists("blob") || exists("\x00tags\x00orders") {
		t.Errorf("clear --yes: exit %d\n%s%s", r.code, r.out, r.err)
	}
	if n, _ := rdb.Exists(ctx, "commands-other:x").Result(); n != 1 {
		t.Error("clear reached a key of another prefix that starts alike")
	}
}

// TestCluster runs the commands against a Redis Cluster, reached through
// one node's address (found to be a cluster) and through a list.
func TestCluster(t *testing.T) {
	t.Parallel()
	c := redistest.SharedCluster(t)
	rdb := c.Client(t)
	const prefix = "cluster-cmd:"
	plant(t, rdb, prefix)
	opts := c.Options()
	for _, addr := range []string{opts.Addrs[0], strings.Join(opts.Addrs, ",")} {
		h := func(args ...string) result {
			t.Helper()
			return hitboxCmd(t, "", append([]string{"--redis", addr, "--prefix", prefix}, args...)...)
		}
		r := h("keys")
		if r.code != 0 || !strings.Contains(r.out, "Redis") && !strings.Contains(r.out, "users:v1:id=1") || !strings.Contains(r.out, "damaged:zstd") {
			t.Errorf("%s: keys: exit %d\n%s%s", addr, r.code, r.out, r.err)
		}
		r = h("inspect", "users:v1:id=1")
		if r.code != 0 || !strings.Contains(r.out, `"2": "Ada Lovelace"`) {
			t.Errorf("%s: inspect: exit %d\n%s%s", addr, r.code, r.out, r.err)
		}
		r = h("stats")
		if r.code != 0 || !strings.Contains(r.out, "Redis Cluster") {
			t.Errorf("%s: stats: exit %d\n%s%s", addr, r.code, r.out, r.err)
		}
	}
	r := hitboxCmd(t, "", "--redis", opts.Addrs[0], "--prefix", prefix, "clear", "--yes")
	if r.code != 0 {
		t.Fatalf("clear: exit %d %s", r.code, r.err)
	}
	r = hitboxCmd(t, "", "--redis", opts.Addrs[0], "--prefix", prefix, "keys")
	if !strings.Contains(r.out, "0 keys under") {
		t.Errorf("after clear, keys says:\n%s", r.out)
	}
}

// TestFailures checks the errors a user meets: a bad command line (exit
// 2), a key that is not there, a server that refuses connections, and one
// that accepts them and never answers (the timeout).
func TestFailures(t *testing.T) {
	t.Parallel()
	frozen := redistest.Start(t)
	frozen.Pause()
	t.Cleanup(frozen.Resume)
	shared := redistest.Shared(t).Addr
	cases := []struct {
		name string
		args []string
		code int
		want string // in stderr
	}{
		{"an unknown command is a usage error", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"a missing address says how to give one", []string{"--prefix", "p:", "keys"}, 2, "no Redis address"},
		{"a missing prefix says what it is", []string{"--redis", shared, "keys"}, 2, "no --prefix"},
		{"an absent key says where it looked", []string{"--redis", shared, "--prefix", "p:", "inspect", "nope"}, 1, `no key nope under the prefix "p:"`},
		{"purge needs tags", []string{"--redis", shared, "--prefix", "p:", "purge"}, 2, "--tag"},
		{"a refused connection is unreachable", []string{"--redis", "127.0.0.1:1", "--prefix", "p:", "keys"}, 1, "redis at 127.0.0.1:1 is unreachable"},
		{"a frozen server runs into the timeout", []string{"--redis", frozen.Addr, "--prefix", "p:", "--timeout", "300ms", "stats"}, 1, "did not answer"},
		{"a bad sentinel address is a usage error", []string{"--redis", "sentinel://h:1", "--prefix", "p:", "keys"}, 2, "sentinel://host:port"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			r := hitboxCmd(t, "", tc.args...)
			if r.code != tc.code || !strings.Contains(r.err, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.err, tc.code, tc.want)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestParseAddr(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, kind string
		addrs    int
		master   string
	}{
		{"127.0.0.1:6379", "server", 1, ""},
		{"redis://user:pw@127.0.0.1:6379/2", "server", 1, ""},
		{"a:1,b:2,c:3", "cluster", 3, ""},
		{"sentinel://a:26379,b:26379/mymaster", "sentinel", 2, "mymaster"},
	}
	for _, tc := range cases {
		pa, err := parseAddr(tc.in)
		if err != nil || pa.kind != tc.kind || len(pa.addrs) != tc.addrs || pa.master != tc.master {
			t.Errorf("parseAddr(%q) = %+v, %v", tc.in, pa, err)
		}
	}
}

// TestProxy reads a caching proxy's admin answers: a stored URL through
// an httpcache.Cache's Inspect, and Cache-Status counts, behind a token.
func TestProxy(t *testing.T) {
	t.Parallel()
	rdb := redistest.Shared(t).Client(t)
	st, err := redisstore.New(rdb, redisstore.Options{Prefix: "proxy-cmd:"})
	if err != nil {
		t.Fatal(err)
	}
	hc := httpcache.New(st, httpcache.Options{Now: func() time.Time { return now0 }})
	defer hc.Close()
	site := hc.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", now0.Format(http.TimeFormat))
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Last-Modified", "Tue, 01 Jan 2030 00:00:00 GMT")
		fmt.Fprint(w, "page")
	}))
	site.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "http://example.com/a", nil))
	const token = "0123456789abcdef"
	admin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "a valid bearer token is required", http.StatusUnauthorized)
			return
		}
		var v any
		switch r.URL.Path {
		case "/cache":
			in, err := hc.Inspect(r.Context(), r.URL.Query().Get("url"), httpcache.InspectOptions{})
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			v = in
		case "/cache/stats":
			v = proxyStats{Requests: 3, Results: map[string]int64{"hit": 2, "miss": 1}, Levels: map[string]int64{"redis": 2}}
		}
		_ = json.NewEncoder(w).Encode(v)
	}))
	defer admin.Close()
	addr := strings.TrimPrefix(admin.URL, "http://")

	r := hitboxCmd(t, "", "inspect", "--proxy", addr, "--token", token, "http://example.com/a")
	if r.code != 0 {
		t.Fatalf("inspect --proxy: exit %d %s", r.code, r.err)
	}
	golden(t, "proxy-inspect", r.out)
	r = hitboxCmd(t, "", "stats", "--proxy", addr, "--token", token)
	if r.code != 0 || !strings.Contains(r.out, "  results  hit 2, miss 1") || !strings.Contains(r.out, "  levels   redis 2") {
		t.Errorf("stats --proxy: exit %d\n%s%s", r.code, r.out, r.err)
	}
	r = hitboxCmd(t, "", "stats", "--proxy", addr, "--token", "wrong")
	if r.code != 1 || !strings.Contains(r.err, "refused the admin token") {
		t.Errorf("a wrong token: exit %d %s", r.code, r.err)
	}
}
