// Command tour is hitbox's main job: it builds a cache pipeline, stores and
// reads typed values through it, and prints what happened — hits, misses,
// one load for many callers, the bytes each compressor stored and what each
// operation cost.
//
//	go run ./examples/tour                          # in-process store
//	go run ./examples/tour -redis 127.0.0.1:6379    # Redis store (or REDIS_URL)
//	go run ./examples/tour -redis 127.0.0.1:6379 -keep   # and leave its keys there
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"
)

func main() {
	var cfg config
	flag.StringVar(&cfg.redisAddr, "redis", "", "Redis address (host:port or redis:// URL); default $REDIS_URL, else the in-process store")
	flag.BoolVar(&cfg.keep, "keep", false, "leave the tour's keys in Redis (under hitbox-tour:) for cmd/hitbox to look at")
	flag.Parse()
	if cfg.redisAddr == "" {
		cfg.redisAddr = os.Getenv("REDIS_URL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "tour:", err)
		os.Exit(1)
	}
}

type config struct {
	redisAddr string
	rounds    int  // Set and Get per compressor; 2000 (200 over Redis) when zero
	keep      bool // leave the keys in Redis at the end
}

func run(ctx context.Context, w io.Writer, cfg config) error {
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.close()

	fmt.Fprintf(w, "hitbox tour on %s\n", st.describe)
	if err := typedValues(ctx, w, st); err != nil {
		return err
	}
	if err := coherence(ctx, w, st); err != nil {
		return err
	}
	return compression(ctx, w, st, cfg.rounds)
}
