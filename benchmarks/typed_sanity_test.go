package benchmarks

import "testing"

// typedSanitySize is small, so `go test ./...` stays quick.
var typedSanitySize = typedSize{name: "sanity", bytes: 200, keys: 300}

// TestTypedRoundTrip fills each typed contender (openDocs checks every key
// reads back as its own record and an absent key as a miss), overwrites
// one key with another's record and reads that back, and reads a batch
// where the contender can, so no typed figure comes from an adapter that
// does not really cache. The Redis contenders use HITBOX_BENCH_REDIS or a
// redis-server of their own, and skip without one.
func TestTypedRoundTrip(t *testing.T) {
	lineups := map[string][]docContender{"hit": typedHitContenders, "redis": typedRedisContenders, "write": typedWriteContenders}
	for lineup, cts := range lineups {
		for _, ct := range cts {
			t.Run(lineup+"/"+ct.name, func(t *testing.T) {
				d := docs(typedSanitySize)
				c := openDocs(t, ct, typedSanitySize)
				defer c.close()
				if err := c.set(d.keys[0], d.docs[1]); err != nil {
					t.Fatalf("overwrite: %v", err)
				}
				if v, ok := c.get(d.keys[0]); !ok || !v.same(d.docs[1]) {
					t.Fatalf("after an overwrite %s reads back ok=%v and not the new record", d.keys[0], ok)
				}
				if bc, ok := c.(docBatcher); ok {
					keys := d.batches(16)[0]
					if n, err := bc.getMany(keys); err != nil || n != len(keys) {
						t.Fatalf("a batch of %d present keys found %d, err %v", len(keys), n, err)
					}
				}
				if ch, ok := c.(docChecker); ok {
					if err := ch.check(); err != nil {
						t.Fatal(err)
					}
				}
			})
		}
	}
}

// TestDocSizes checks that a record of each typed size encodes to exactly
// that many bytes of MessagePack, as the workloads' names say.
func TestDocSizes(t *testing.T) {
	for _, sz := range typedSizes {
		d := docs(sz)
		if n := encodedLen(d.docs[0]); n != sz.bytes {
			t.Errorf("size=%s: record 0 encodes to %d bytes, want %d", sz.name, n, sz.bytes)
		}
	}
}
