package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox/store/redisstore"
)

func runInspect(ctx context.Context, c *cli, args []string) error {
	if c.opt.proxy != "" {
		if len(args) != 1 {
			return usagef("inspect --proxy ADDR takes one URL")
		}
		return c.inspectProxy(ctx, args[0])
	}
	if len(args) != 1 {
		return usagef("inspect takes one KEY")
	}
	key, err := keyArg(args[0])
	if err != nil {
		return err
	}
	cn, err := c.connect(ctx)
	if err != nil {
		return err
	}
	defer cn.Close()
	rk := cn.prefix + key
	raw, err := cn.rdb.Get(ctx, rk).Bytes()
	if errors.Is(err, redis.Nil) {
		return fmt.Errorf("no key %s under the prefix %q (Redis key %s)", showKey(key), cn.prefix, showKey(rk))
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", showKey(rk), err)
	}
	ttl, err := cn.rdb.PTTL(ctx, rk).Result()
	if err != nil {
		return fmt.Errorf("reading the TTL of %s: %w", showKey(rk), err)
	}
	if ttl < 0 {
		ttl = -1
	}
	st, _ := redisstore.ParseStored(raw)
	versions := make(map[string][]byte, len(st.Tags))
	for _, t := range st.Tags {
		v, err := cn.rdb.Get(ctx, redisstore.TagVersionKey(cn.prefix, t.Tag)).Bytes()
		switch {
		case errors.Is(err, redis.Nil):
			versions[t.Tag] = nil
		case err != nil:
			return fmt.Errorf("reading the version of tag %q: %w", t.Tag, err)
		default:
			versions[t.Tag] = v
		}
	}
	now := c.now()
	r := describe(key, rk, raw, ttl, now, c.opt.format, versions)
	if c.opt.json {
		return writeJSON(c, r)
	}
	r.render(c.stdout, now)
	return nil
}

func writeJSON(c *cli, v any) error {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// keyInfo is one line of keys.
type keyInfo struct {
	Key   string `json:"key"`
	Size  int64  `json:"size"`
	TTLms int64  `json:"redis_ttl_ms"` // -1: none
}

// errEnough stops a walk at --limit.
var errEnough = errors.New("enough keys")

func runKeys(ctx context.Context, c *cli, args []string) error {
	if len(args) > 1 {
		return usagef("keys takes at most one PATTERN")
	}
	if c.opt.limit <= 0 {
		return usagef("--limit must be positive")
	}
	pattern := ""
	if len(args) == 1 {
		pattern = args[0]
	}
	cn, err := c.connect(ctx)
	if err != nil {
		return err
	}
	defer cn.Close()
	var keys []string
	more := false
	err = cn.store.Keys(ctx, pattern, func(k string) error {
		if slices.Contains(keys, k) {
			return nil // SCAN may return a key twice
		}
		if len(keys) == c.opt.limit {
			more = true
			return errEnough
		}
		keys = append(keys, k)
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return err
	}
	slices.Sort(keys)
	infos := make([]keyInfo, len(keys))
	sizes := make([]*redis.IntCmd, len(keys))
	ttls := make([]*redis.DurationCmd, len(keys))
	if _, err := cn.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			sizes[i] = p.StrLen(ctx, cn.prefix+k)
			ttls[i] = p.PTTL(ctx, cn.prefix+k)
		}
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		return err
	}
	for i, k := range keys {
		infos[i] = keyInfo{Key: k, Size: sizes[i].Val(), TTLms: -1}
		if d := ttls[i].Val(); d >= 0 {
			infos[i].TTLms = d.Milliseconds()
		}
	}
	if c.opt.json {
		return writeJSON(c, map[string]any{"keys": infos, "truncated": more})
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "SIZE\tTTL\t\tKEY")
	for _, k := range infos {
		ttl := "none"
		if k.TTLms >= 0 {
			ttl = duration(time.Duration(k.TTLms) * time.Millisecond)
		}
		fmt.Fprintf(tw, "%d\t%s\t\t%s\n", k.Size, ttl, showKey(k.Key))
	}
	_ = tw.Flush()
	switch {
	case more:
		fmt.Fprintf(c.stdout, "the first %d keys under %q in order; --limit to see more\n", len(keys), cn.prefix)
	default:
		fmt.Fprintf(c.stdout, "%d keys under %q\n", len(keys), cn.prefix)
	}
	return nil
}

func runDelete(ctx context.Context, c *cli, args []string) error {
	if len(args) == 0 {
		return usagef("delete takes one or more KEYs")
	}
	keys := make([]string, len(args))
	for i, a := range args {
		k, err := keyArg(a)
		if err != nil {
			return err
		}
		keys[i] = k
	}
	cn, err := c.connect(ctx)
	if err != nil {
		return err
	}
	defer cn.Close()
	for _, k := range keys {
		removed, err := cn.store.Remove(ctx, k)
		if err != nil {
			return err
		}
		what := "removed"
		if !removed {
			what = "absent"
		}
		fmt.Fprintf(c.stdout, "%-8s %s\n", what, showKey(k))
	}
	return nil
}

func runPurge(ctx context.Context, c *cli, args []string) error {
	if len(args) > 0 || len(c.opt.tags) == 0 {
		return usagef("purge takes tags as --tag T (repeat for more)")
	}
	cn, err := c.connect(ctx)
	if err != nil {
		return err
	}
	defer cn.Close()
	if err := cn.store.InvalidateTags(ctx, c.opt.tags...); err != nil {
		return err
	}
	for _, t := range c.opt.tags {
		fmt.Fprintf(c.stdout, "purged   tag %s\n", showKey(t))
	}
	return nil
}

func runClear(ctx context.Context, c *cli, args []string) error {
	if len(args) > 1 {
		return usagef("clear takes at most one KEYPREFIX")
	}
	sub := ""
	if len(args) == 1 {
		var err error
		if sub, err = keyArg(args[0]); err != nil {
			return err
		}
	}
	cn, err := c.connect(ctx)
	if err != nil {
		return err
	}
	defer cn.Close()
	where := fmt.Sprintf("under %q", cn.prefix+sub)
	if !c.opt.yes {
		n := 0
		match := redisstore.EscapeGlob(sub) + "*"
		if err := cn.store.Keys(ctx, match, func(string) error { n++; return nil }); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "remove the %d keys %s", n, where)
		if sub == "" {
			fmt.Fprint(c.stdout, " and every tag version")
		}
		fmt.Fprint(c.stdout, " from ", cn.describe, "? [y/N] ")
		line, _ := bufio.NewReader(c.stdin).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
			fmt.Fprintln(c.stdout, "nothing removed")
			return errors.New("not confirmed")
		}
	}
	if sub == "" {
		err = cn.store.Clear(ctx)
	} else {
		err = cn.store.ClearPrefix(ctx, sub)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, "cleared every key", where)
	return nil
}
