package redisstore

import (
	"errors"
	"fmt"
	"time"
)

// Options configures a Store. The zero value is a working configuration:
// every field left zero takes the default named in its comment.
type Options struct {
	// Prefix is put before every key, so keys are stored as Prefix+key.
	// It is the store's namespace: Clear removes the keys under it and no
	// others, and refuses to run without one. Default none.
	//
	// On a Redis Cluster the slot of a key is computed over the whole
	// stored key, prefix included, and only over its hash tag (the text in
	// the first {...}) when it has one. A prefix without braces, such as
	// "app:", lets keys spread over every node. A prefix with a hash tag,
	// such as "{app}:", puts every key on one node: batches are then one
	// command, but that node holds and serves the whole store.
	Prefix string

	// Label names the store in metrics, traces and errors. Default
	// "redis".
	Label string

	// MaxValueSize is the largest value Set accepts, in bytes; a bigger
	// one is refused with an error wrapping hitbox.ErrTooLarge that names
	// this limit. Redis itself takes strings up to 512 MiB, but one big
	// value stalls the server for every other client while it is copied,
	// so the default is a cautious 4 MiB. It may be raised up to 512 MiB
	// less the 26-byte header the store adds to each value.
	MaxValueSize int

	// MaxTTL bounds how long any entry lives in Redis, whatever its Expire:
	// Set lowers a later (or zero) Expire to now+MaxTTL, and Get reports
	// the lowered deadline. It is the policy for entries with no Expire:
	// zero MaxTTL keeps them until deleted, cleared or evicted by the
	// server's maxmemory policy; a positive MaxTTL gives them that
	// lifetime. Default zero.
	MaxTTL time.Duration

	// CloseClient makes Close close the client too. By default the store
	// does not own the client: it may be shared with other stores and
	// other code, and whoever created it closes it.
	CloseClient bool

	// ReadScript makes Get and GetTagged on a single server (a
	// *redis.Client) read through a Lua script that returns the entry and,
	// when it is tagged, its tags' versions: one round trip for a tagged
	// entry instead of two. Every read then runs the script, untagged ones
	// too, which costs the server more than a GET; BenchmarkTaggedGet in
	// tags_bench_test.go measures tagged and untagged reads with and
	// without it. Set it when many entries read are tagged. Clusters and
	// rings ignore it: a script there cannot read the version keys, which
	// lie on other slots or shards. Default off: an untagged read is one
	// GET.
	ReadScript bool

	// WaitReplicas, when positive, makes every change wait until that many
	// replicas of the master have acknowledged it, with Redis's WAIT sent
	// in the same pipeline as the change, on the same connection. A
	// change that fewer replicas acknowledge within WaitTimeout returns
	// an error wrapping ErrNotReplicated (and hitbox.ErrUnavailable) that
	// names the numbers wanted and got. It costs each change one
	// replication round trip; reads cost nothing more. The package doc's
	// "Waiting for replicas" says what it guarantees and what it does
	// not (WAIT does not make Redis strongly consistent). It needs a
	// *redis.Client (one server, or a Sentinel failover client): New
	// refuses it over a cluster or a ring. Default 0: changes do not
	// wait.
	WaitReplicas int

	// WaitTimeout is the longest a change waits for WaitReplicas
	// acknowledgements, rounded up to a whole millisecond. It must be
	// below the client's ReadTimeout, which bounds the reply of the
	// change and its WAIT together (New returns an error otherwise), and
	// should leave the change room: half of it, say. It may be set only
	// with WaitReplicas. Default 100ms when WaitReplicas is set, half of
	// ClientOptions' ReadTimeout.
	WaitTimeout time.Duration

	// Now is the clock deadlines are checked against: Set computes the
	// remaining lifetime from it and Get hides entries whose Expire it has
	// reached. Redis expires keys by its own clock, so a Now far from the
	// server's clock lets Redis drop entries early or keep them late (Get
	// still never returns an expired one). Default time.Now.
	Now func() time.Time
}

// Defaults and limits.
const (
	defaultLabel        = "redis"
	defaultMaxValueSize = 4 << 20
	defaultWaitTimeout  = 100 * time.Millisecond

	// maxBulk is the longest string Redis accepts by default
	// (proto-max-bulk-len).
	maxBulk = 512 << 20
	// maxValueLimit is the largest MaxValueSize: a value and its header
	// must fit in one Redis string.
	maxValueLimit = maxBulk - headerSize
)

// Validate reports the first option that cannot work, with the message New
// panics with: "hitbox/redisstore: Options.<field>: <why>". A program that
// reads options from configuration calls it first to get an error rather
// than a panic. Zero values are never invalid: they mean the defaults.
func (o Options) Validate() error {
	switch {
	case o.MaxValueSize < 0 || o.MaxValueSize > maxValueLimit:
		return invalid("Options.MaxValueSize", "%d is outside 1 to %d bytes", o.MaxValueSize, maxValueLimit)
	case o.MaxTTL < 0:
		return invalid("Options.MaxTTL", "negative (%v)", o.MaxTTL)
	case o.WaitReplicas < 0:
		return invalid("Options.WaitReplicas", "negative (%d)", o.WaitReplicas)
	case o.WaitTimeout < 0:
		return invalid("Options.WaitTimeout", "negative (%v)", o.WaitTimeout)
	case o.WaitTimeout > 0 && o.WaitReplicas == 0:
		return invalid("Options.WaitTimeout", "set without WaitReplicas, so no change would wait")
	}
	return nil
}

// invalid is the error of an option that cannot work.
func invalid(field, why string, args ...any) error {
	return errors.New("hitbox/redisstore: " + field + ": " + fmt.Sprintf(why, args...))
}

// resolve applies defaults to o, and panics on invalid options.
func (o Options) resolve() Options {
	if err := o.Validate(); err != nil {
		panic(err.Error())
	}
	if o.Label == "" {
		o.Label = defaultLabel
	}
	if o.MaxValueSize == 0 {
		o.MaxValueSize = defaultMaxValueSize
	}
	if o.WaitReplicas > 0 && o.WaitTimeout == 0 {
		o.WaitTimeout = defaultWaitTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}
