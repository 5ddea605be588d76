// Package memstore is the in-process hitbox store, built on
// github.com/allegro/bigcache/v3: entries live in a few large byte arrays the
// garbage collector does not scan, so millions of them cost little GC time.
// The package's Example:
//
//	store, err := memstore.New(memstore.Options{MaxBytes: 16 << 20})
//	if err != nil {
//		panic(err)
//	}
//	defer store.Close()
//
//	err = store.Set(ctx, "greeting", hitbox.Entry{
//		Value:  []byte("hello"),
//		Expire: time.Now().Add(time.Minute),
//	})
//	if err != nil {
//		panic(err)
//	}
//	e, err := store.Get(ctx, "greeting")
//	fmt.Println(string(e.Value), err)
//
//	_, err = store.Get(ctx, "absent")
//	fmt.Println(errors.Is(err, hitbox.ErrMiss), err)
//
// # What it keeps
//
// For each key the store keeps the value bytes, Expire and Stale, each
// deadline exactly to the nanosecond, in a 24-byte header before the value.
// Get never returns an entry at or past its Expire: it deletes it and
// reports a miss. An entry whose Expire has passed when it is Set is not
// stored, and removes what the key held. Stale is kept and returned, not
// acted on. Nothing else of an Entry exists to keep.
//
// # Memory
//
// Options.MaxBytes caps the bytes bigcache holds records in (value, header,
// key and about 20 bytes of bigcache's own per entry). bigcache counts that
// cap in whole MiB, so it is rounded down to a whole MiB, and split evenly
// over the shards. bigcache's queues start small and grow by doubling up to
// the cap. On top of it come each shard's key index (some 16 bytes per
// entry plus map overhead), one write buffer per shard as large as the
// largest record written to it, and, briefly, the old array while a queue
// grows.
//
// A full shard evicts its oldest entries first (first in, first out,
// regardless of deadline), so one Set may push out several others; with
// admission on (the default), an entry read since it was written is given
// a second chance instead (see Admission). Replacing or deleting a key
// frees its old bytes only when they reach the front of the queue.
//
// # Admission
//
// A full shard does not take every write. Unless Options.DisableAdmission
// is set, the store keeps a TinyLFU frequency sketch of the keys read and
// written lately (4-bit counters and a doorkeeper Bloom filter, halved
// periodically, sized to the entries the store holds), and a write that
// would evict is kept only if its key was used before within the sketch's
// window. A declined write deletes what the key held, so no read returns
// the value it replaced: under pressure a write may not be kept, as in any
// bounded cache, and the key then reads as a miss. While a shard has room
// every write is kept. Keys used once are never worth an eviction, so a
// scan of cold keys does not flush the entries that are read again.
//
// Eviction gives read entries a second chance, as the CLOCK algorithm
// and S3-FIFO's main queue do: a hit sets a visited bit for the key, and
// an entry that reaches the front of its shard's queue with its bit set is
// written back at the tail, bit cleared, instead of leaving. An entry read
// at least once per turn of the queue stays; one nobody read goes. The
// bits are shared by hash (four per entry of capacity), so an unread entry
// now and then stays one more turn. bigcache cannot move an entry itself:
// the write that evicted it writes it back once its own write returns, at
// most a few per write, and only if no Set, Delete, Remove or clear of
// the key started in between (see Leases), so a write-back never returns
// a value a change replaced. Evicted entries are copied out (bigcache
// hands each to the store), which costs the writes that evict an
// allocation or two each.
//
// Admission and re-insertion hold about two bytes per entry of capacity:
// half a byte of 4-bit counters, a byte of doorkeeper bits and half a byte
// of visited bits (BenchmarkAdmissionMemory measures it). With
// Options.DisableAdmission the store is bigcache's plain first in, first
// out: every write kept, no sketch, no visited bits, no re-insertion.
//
// # Limits
//
// Values over Options.MaxValueSize are refused with an error wrapping
// hitbox.ErrTooLarge. Keys are limited to what fits a shard beside the
// largest value (65517 bytes at most: bigcache keeps key lengths in 16 bits);
// longer ones are refused with hitbox.ErrInvalidKey. bigcache indexes keys
// by a 64-bit hash and keeps one entry per hash: two keys that collide
// displace each other, which a cache can afford.
//
// Options.MaxTTL bounds every entry's life and lets bigcache's cleaning
// goroutine reclaim old entries; Close stops that goroutine.
//
// # Abilities
//
// The store reads, writes and deletes in batches, clears, and removes
// (Remove says whether a live entry was there). ClearPrefix works, but
// bigcache keeps no index of keys: it walks and copies every entry the
// store holds, so it costs as much as the whole store, not the namespace.
//
// # Tags
//
// The store is a hitbox.Tagger: an entry written with SetTagged carries
// tags, and InvalidateTags drops every entry carrying one of them:
//
//	_ = store.SetTagged(ctx, "orders:42", hitbox.Entry{Value: []byte("3 orders")}, []string{"user:42", "orders"})
//	err = store.InvalidateTags(ctx, "user:42")
//
// Each tag has a version, a random number kept in a table beside bigcache;
// a tagged record keeps its tags with the versions they had when it was
// written (2 bytes, the tag and 8 bytes per tag, after the header), and
// Get, GetTagged, GetMany and Remove treat it as a miss once any of them
// is no longer current. InvalidateTags forgets the tags' versions: O(1)
// per tag, however many entries carry it; their bytes go when a read finds
// them or eviction reaches them. A write racing a purge either read the
// old version, and is dropped, or began after the purge.
//
// The table is sharded like bigcache and bounded by
// Options.MaxTagVersions (1<<20 tags by default); when it is full, a new
// tag pushes an old one out and the entries carrying that one read as
// misses. One remembered tag costs its map slot and its own copy of the
// tag; BenchmarkTagMemory in tags_test.go measures it for a 10-byte tag,
// and the table at its bound takes MaxTagVersions times that.
//
// An untagged record has no tag section, and reading one pays one bit
// test. A read of a 1 KiB entry with three tags pays the parse and three
// version lookups (BenchmarkGetTagged in bench_test.go).
//
// # Leases
//
// The store is a hitbox.Leaser: SetLeased stores a load's entry only if no
// change crossed the load's Lease. Keys are spread over 1024 stripes,
// each with a generation that every Set, SetTagged, SetMany, Delete,
// Remove and DeleteMany of one of its keys raises before it writes (Clear
// and ClearPrefix raise them all), with a count of changes under way that
// it lowers once written; a lease keeps its stripe's generation
// and its tags' versions, and SetLeased claims the stripe only while the
// generation is unchanged, in one compare-and-swap, then writes. A change
// that arrives while a leased write holds the stripe waits for it and
// writes after it. So a change to another key of the stripe refuses a
// lease (a false conflict: one more miss, never a stale value), reads pay
// nothing, and a change pays a hash and two atomic adds (three with its stamp). A lease lapses
// after two minutes. An evicted entry's write-back claims the stripe the
// same way, on the whole word it read when the entry was evicted, so it
// gives up if a change was under way then or started since.
//
// # Stamps
//
// The store is a hitbox.Stamper: each stripe also keeps a stamp that
// every change, leased write and tag purge of its keys raises before it
// writes (a purge raises all 1024), so httpcache's front of hot responses
// answers a response it decoded without reading the store again while
// the key's stamp stands, and tells the store of such a hit (Hit), which
// counts it for admission and eviction as a Get hit. Stamp costs a hash
// and three atomic loads; a change pays one more atomic add on a cache
// line it already holds.
package memstore
