package main

// workload is one Benchmark<Name> of the benchmarks module and how the
// report runs and reads it.
type workload struct {
	Name     string // the benchmark is Benchmark<Name>
	Title    string
	Measures string // what it measures, one sentence for the report
	// Count and Benchtime are go test's -count and -benchtime in a full
	// run; Quick is the -benchtime of -quick (count 1).
	Count     int
	Benchtime string
	Quick     string
	// Primary is the unit the ratios and the chart use.
	Primary string
	// Higher says a larger Primary is better (a hit ratio).
	Higher bool
	// Floor is the impl the "× floor" column divides by: the cheapest
	// possible way to do the job; "" for none.
	Floor string
	// Hitbox is the impl the "× hitbox" column divides by.
	Hitbox string
	// OnlyCustom drops the time and allocation columns: the workload does
	// its work once and reports a custom unit, so ns/op means nothing.
	OnlyCustom bool
}

// workloads is every workload the report runs, in order. The budget of a
// full run (under 6 minutes on 2 cores, see README.md) is set here.
var workloads = []workload{
	{
		Name: "TypedHit", Title: "Typed read from process memory",
		Measures: "a present Doc record read in Zipf order from memory: hitbox's decoded-object front, hitbox Cache[T] over memstore, go-redis/cache's TinyLFU, otter holding pointers",
		Count:    6, Benchtime: "100ms", Quick: "2000x",
		Primary: "cpu-ns/op", Floor: "otter", Hitbox: "hitbox-front",
	},
	{
		Name: "TypedRedis", Title: "Typed read from Redis",
		Measures: "a present Doc record read in Zipf order from Redis on loopback: hitbox Cache[T] over redisstore, a tier's L2 hit with L1 refill, go-redis/cache over Redis, GET/MGET and decode by hand",
		Count:    6, Benchtime: "100ms", Quick: "200x",
		Primary: "ns/op", Floor: "go-redis-raw", Hitbox: "hitbox-redis",
	},
	{
		Name: "TypedWrite", Title: "Typed write to memory and Redis",
		Measures: "a Doc record overwritten in Zipf order: hitbox Cache[T] over a write-through tier of memstore and redisstore, go-redis/cache with TinyLFU and Redis, encode and SET by hand",
		Count:    6, Benchtime: "100ms", Quick: "200x",
		Primary: "ns/op", Floor: "go-redis-raw", Hitbox: "hitbox-tier",
	},
	{
		Name: "Stampede", Title: "Stampede on a cold key",
		Measures: "1000 callers ask for one cold key at once, the loader taking 1 ms: loader calls and wall time per stampede, in one process and over 4 processes sharing Redis",
		Count:    6, Benchtime: "10x", Quick: "3x",
		Primary: "ms/stampede", Hitbox: "hitbox",
	},
	{
		Name: "Memory", Title: "Memory per entry",
		Measures: "heap in use after GC per 1 KiB entry, a million entries",
		Count:    1, Benchtime: "1x", Quick: "1x",
		Primary: "B/entry", Hitbox: "hitbox-memstore", OnlyCustom: true,
	},
	{
		Name: "HitRatio", Title: "Hit ratio at equal memory",
		Measures: "share of reads that hit, caches sized to 1 % and 10 % of the key space (and 2, 5 and 20 % for the charts against size), under Zipf and a trace",
		Count:    1, Benchtime: "1x", Quick: "1x",
		Primary: "hit%", Higher: true, Hitbox: "hitbox-memstore", OnlyCustom: true,
	},
	{
		Name: "HTTP", Title: "Cached 1 KiB GET over HTTP",
		Measures: "a cached 1 KiB GET on a loopback server with keep-alive clients: httpcache, the bare handler, other middlewares",
		Count:    6, Benchtime: "200ms", Quick: "200x",
		Primary: "ns/op", Floor: "bare", Hitbox: "httpcache",
	},
	{
		Name: "HTTPSlow", Title: "Uncached HTTP with a 1 ms handler",
		Measures: "a handler that takes 1 ms and answers no-store, so every request reaches it: what each middleware adds to a miss",
		Count:    6, Benchtime: "200ms", Quick: "100x",
		Primary: "ns/op", Floor: "bare", Hitbox: "httpcache",
	},
}
