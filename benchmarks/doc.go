// Package benchmarks measures hitbox side by side with other Go caches:
// typed reads and writes in memory and over Redis against go-redis/cache,
// raw go-redis and otter, GetOrLoad stampedes in one process and across
// processes, and in-process byte caching against allegro/bigcache,
// coocood/freecache, dgraph-io/ristretto, maypok86/otter,
// patrickmn/go-cache and jellydator/ttlcache.
//
// It is a module of its own so the library's go.mod never requires the
// peers. Every contender is driven through the same small adapter with the
// same pre-built keys and values, filled before any read is timed, and
// checked to answer hits with the right bytes before its figures count.
//
// Run it from this folder. The report runs every workload against a
// redis-server of its own and writes BENCHMARKS.md with charts:
//
//	go run ./cmd/report
//
// The byte-cache benchmarks alone:
//
//	go test -run='^$' -bench='^Benchmark(Get|Set|User)' -benchmem -count=6 | tee new.txt
//	go run golang.org/x/perf/cmd/benchstat@latest -col /cache new.txt
//
// README.md holds the figures measured so far and what they mean.
package benchmarks
