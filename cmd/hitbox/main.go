// Command hitbox shows and changes what a hitbox cache holds in Redis, and
// what a caching proxy built on package httpcache holds:
//
//	go install github.com/hitbox-go/hitbox/cmd/hitbox@latest
//	hitbox --redis 127.0.0.1:6379 --prefix hitbox-tour: keys
//	hitbox --redis 127.0.0.1:6379 --prefix hitbox-tour: inspect 'users:v1:id=2'
//
// Commands:
//
//	inspect KEY          everything the stored bytes say, layer by layer
//	inspect --proxy ADDR URL
//	                     what the proxy's admin listener says it holds for URL
//	keys [PATTERN]       the keys under the prefix (SCAN), with sizes and TTLs
//	delete KEY...        remove keys
//	purge --tag T...     invalidate tags: every entry carrying one is a miss
//	clear [KEYPREFIX]    remove every key under the prefix (asks first)
//	stats                memory, keys and tag versions; --proxy adds the
//	                     proxy's Cache-Status counts
//
// The Redis address (--redis, else $REDIS_URL) is host:port or a
// redis:// URL for one server (a Cluster node is recognised, and the
// whole cluster used), host:port,host:port,... for a Redis Cluster, or
// sentinel://host:port[,host:port...]/MASTER for a Sentinel-managed
// master. --prefix is the store's redisstore.Options.Prefix. Every
// command gives up after --timeout. Run "hitbox help" for the flags.
//
// inspect reads the layers by their marks, with the module's own
// decoders: redisstore's header (always), then layer.Encode's envelope
// (its magic bytes), then layer.Compress's header when the value starts
// with a compressor id (0 to 3) and more bytes follow, then the value's
// format: httpcache's stored form, JSON, text, CBOR or MessagePack, the
// first that reads it whole (--format names it instead). A value written
// without Compress whose first byte is 0 to 3 is read as Compress's.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

func main() {
	redis.SetLogger(quietLogger{})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], &env{
		stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr,
		getenv: os.Getenv, now: time.Now,
	}))
}

// env is what a command reads and writes besides Redis, so tests can
// give their own.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	now            func() time.Time
}

// options are the flags of every command; each command reads those it
// registers.
type options struct {
	redis   string
	prefix  string
	timeout time.Duration
	json    bool
	proxy   string
	token   string
	limit   int
	tags    []string
	yes     bool
	format  string
}

// command is one subcommand.
type command struct {
	name, args, summary string
	flags               func(fs *flag.FlagSet, o *options)
	run                 func(ctx context.Context, c *cli, args []string) error
}

// cli is a command's run: its options and where it writes.
type cli struct {
	*env
	opt options
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

var commands = []command{
	{"inspect", "KEY | --proxy ADDR URL", "show everything the stored bytes of KEY say, layer by layer",
		func(fs *flag.FlagSet, o *options) {
			fs.BoolVar(&o.json, "json", false, "print JSON, for scripts")
			fs.StringVar(&o.format, "format", "auto", "the value's format: auto, json, cbor, msgpack, raw, http, gob, binary")
			proxyFlags(fs, o)
		}, runInspect},
	{"keys", "[PATTERN]", "list the keys under the prefix matching the glob PATTERN, with sizes and TTLs",
		func(fs *flag.FlagSet, o *options) {
			fs.IntVar(&o.limit, "limit", 100, "list at most this many keys")
			fs.BoolVar(&o.json, "json", false, "print JSON, for scripts")
		}, runKeys},
	{"delete", "KEY...", "remove keys", func(*flag.FlagSet, *options) {}, runDelete},
	{"purge", "--tag T...", "invalidate tags: every entry carrying one reads as a miss",
		func(fs *flag.FlagSet, o *options) {
			fs.Func("tag", "a tag to invalidate (repeat for more)", func(s string) error {
				o.tags = append(o.tags, s)
				return nil
			})
		}, runPurge},
	{"clear", "[KEYPREFIX]", "remove every key under the prefix (or under the prefix and KEYPREFIX)",
		func(fs *flag.FlagSet, o *options) {
			fs.BoolVar(&o.yes, "yes", false, "do not ask for confirmation")
		}, runClear},
	{"stats", "", "show memory, the keys under the prefix and tag versions; with --proxy, its Cache-Status counts",
		func(fs *flag.FlagSet, o *options) {
			fs.BoolVar(&o.json, "json", false, "print JSON, for scripts")
			proxyFlags(fs, o)
		}, runStats},
}

func proxyFlags(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.proxy, "proxy", "", "the proxy's admin listener (host:port or URL)")
	fs.StringVar(&o.token, "token", "", "the admin listener's bearer token; default $HITBOX_ADMIN_TOKEN")
}

// defaultTimeout is --timeout's default.
const defaultTimeout = 5 * time.Second

// globalFlags registers the flags every command takes, with o's values as
// defaults: those given before the command stay when it parses its own.
func globalFlags(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.redis, "redis", o.redis, "Redis address: host:port, redis://..., host:port,host:port (cluster) or sentinel://host:port/MASTER; default $REDIS_URL")
	fs.StringVar(&o.prefix, "prefix", o.prefix, "the store's key prefix (redisstore.Options.Prefix), e.g. hitbox-tour:")
	fs.DurationVar(&o.timeout, "timeout", o.timeout, "give up after this long")
}

// run runs the command line args and returns the exit status.
func run(ctx context.Context, args []string, e *env) int {
	o := options{timeout: defaultTimeout}
	// Global flags may come before the command as well as after it.
	pre := flag.NewFlagSet("hitbox", flag.ContinueOnError)
	pre.SetOutput(io.Discard)
	globalFlags(pre, &o)
	if err := pre.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) { // -h or --help before any command
			printUsage(e.stdout)
			return 0
		}
		return usage(e, err)
	}
	args = pre.Args()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(e.stdout)
		return 0
	}
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == args[0] })
	if i < 0 {
		return usage(e, usagef("unknown command %q", args[0]))
	}
	cmd := commands[i]
	fs := flag.NewFlagSet("hitbox "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	globalFlags(fs, &o)
	cmd.flags(fs, &o)
	// Flags may follow the arguments too: parse, take an argument, go on.
	var rest []string
	for a := args[1:]; ; {
		if err := fs.Parse(a); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				printCommandUsage(e.stdout, cmd, fs)
				return 0
			}
			return usage(e, usagef("%s: %v", cmd.name, err))
		}
		a = fs.Args()
		if len(a) == 0 {
			break
		}
		if a[0] == "--" {
			rest = append(rest, a[1:]...)
			break
		}
		rest = append(rest, a[0])
		a = a[1:]
	}
	if o.redis == "" {
		o.redis = e.getenv("REDIS_URL")
	}
	if o.token == "" {
		o.token = e.getenv("HITBOX_ADMIN_TOKEN")
	}
	if o.timeout <= 0 {
		return usage(e, usagef("--timeout must be positive"))
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	err := cmd.run(ctx, &cli{env: e, opt: o}, rest)
	if err == nil {
		return 0
	}
	if _, ok := errors.AsType[usageError](err); ok {
		return usage(e, err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w (gave up after --timeout %s)", err, o.timeout)
	}
	fmt.Fprintln(e.stderr, "hitbox:", err)
	return 1
}

func usage(e *env, err error) int {
	fmt.Fprintln(e.stderr, "hitbox:", err)
	fmt.Fprintln(e.stderr, `run "hitbox help" for the commands and flags`)
	return 2
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: hitbox [--redis ADDR] [--prefix P] [--timeout D] COMMAND [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %-24s %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprintln(w, "\nflags of every command:")
	fs := flag.NewFlagSet("hitbox", flag.ContinueOnError)
	fs.SetOutput(w)
	globalFlags(fs, &options{timeout: defaultTimeout})
	fs.PrintDefaults()
	fmt.Fprintln(w, "\nrun \"hitbox COMMAND -h\" for a command's own flags")
}

func printCommandUsage(w io.Writer, c command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: hitbox %s [flags] %s\n\n%s\n\nflags:\n", c.name, c.args, c.summary)
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// keyArg reads a key given on the command line: as it is, or in Go's
// quoted form ("a\x00b") for keys with bytes a shell cannot pass, as keys
// prints them.
func keyArg(s string) (string, error) {
	if strings.HasPrefix(s, `"`) {
		k, err := strconv.Unquote(s)
		if err != nil {
			return "", usagef("key %s: a quoted key must be a Go string literal", s)
		}
		return k, nil
	}
	return s, nil
}

// showKey prints a key as it is when it is printable, else quoted.
func showKey(k string) string {
	if strconv.CanBackquote(k) && !strings.ContainsAny(k, "`\"") {
		return k
	}
	return strconv.Quote(k)
}
