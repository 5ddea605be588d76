// Package benchmarks measures hitbox's in-process caching side by side with
// other Go caches: allegro/bigcache, coocood/freecache,
// dgraph-io/ristretto, maypok86/otter, patrickmn/go-cache and
// jellydator/ttlcache.
//
// It is a module of its own so the library's go.mod never requires the
// peers. Every contender is driven through the same small adapter with the
// same pre-built keys and values, filled before any read is timed, and
// checked to answer hits with the right bytes before its figures count.
//
// Run it from this folder:
//
//	go test -run='^$' -bench=. -benchmem -count=6 | tee new.txt
//	go run golang.org/x/perf/cmd/benchstat@latest -col /cache new.txt
//
// README.md holds the figures measured so far and what they mean.
package benchmarks
