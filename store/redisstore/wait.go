package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox"
)

// ErrNotReplicated is wrapped by the error of a change (Set, SetTagged,
// SetLeased, SetMany, Delete, DeleteMany, Remove, InvalidateTags, Clear,
// ClearPrefix) on a store with Options.WaitReplicas, when fewer replicas
// than that acknowledged the change within Options.WaitTimeout; the error
// names the numbers wanted and got and the timeout. The master did make
// the change, and still serves it: what failed is the promise that a
// failover keeps it. Nothing is rolled back, so the caller should take the
// change as made or not and retry it (every change is idempotent). It
// wraps hitbox.ErrUnavailable: the shared level cannot make changes
// durable, as when it cannot be reached.
var ErrNotReplicated = fmt.Errorf("redisstore: too few replicas acknowledged the change: %w", hitbox.ErrUnavailable)

// waiting is the replica acknowledgement a store's changes wait for.
type waiting struct {
	rdb      *redis.Client // the store's client
	replicas int
	timeout  time.Duration // as WAIT is given it, in whole milliseconds
}

// newWaiting returns what opt asks changes on client to wait for: nil
// when they do not wait, or an error when client cannot make them wait.
//
// WAIT counts the replicas that have acknowledged the last write made on
// its own connection, on the server it reaches. On a *redis.Client a
// pipeline runs on one connection from start to end (a retry sends it
// whole again), so a WAIT queued after a change waits for that change.
// A cluster client splits a pipeline by node, sends a command that names
// no key (as WAIT) to whichever node it picks, and follows a MOVED reply
// to another node on another connection; a ring routes such a command by
// a key it does not have. Neither can tie a WAIT to a change's node and
// connection, so New refuses the option there rather than wait on the
// wrong node.
//
// A pipeline's replies are read under the client's ReadTimeout, from the
// moment it is sent: the WAIT must answer within it, with room for the
// change itself, so WaitTimeout must be below it. (A clone of the client
// with a longer ReadTimeout, redis.Client.WithTimeout, would lift that
// limit, but it drops the hooks added to the client, and with them its
// tracing and metrics.) A negative ReadTimeout sets no deadline.
func newWaiting(client redis.UniversalClient, opt Options) (*waiting, error) {
	if opt.WaitReplicas == 0 {
		return nil, nil
	}
	c, ok := client.(*redis.Client)
	if !ok {
		return nil, fmt.Errorf("hitbox/redisstore: New: Options.WaitReplicas needs a *redis.Client (one server, or a Sentinel failover client), not a %T: "+
			"WAIT counts the replicas of the node and connection it reaches, and a cluster or ring pipeline cannot send it on the change's: %w",
			client, hitbox.ErrNotSupported)
	}
	timeout := opt.WaitTimeout.Round(time.Millisecond)
	if timeout < opt.WaitTimeout {
		timeout += time.Millisecond
	}
	if rt := c.Options().ReadTimeout; rt > 0 && timeout >= rt {
		return nil, fmt.Errorf("hitbox/redisstore: New: Options.WaitTimeout (%v) is not below the client's ReadTimeout (%v), which bounds the reply of a change and its WAIT: %w",
			timeout, rt, hitbox.ErrNotSupported)
	}
	return &waiting{rdb: c, replicas: opt.WaitReplicas, timeout: timeout}, nil
}

// change sends the commands of one change in one round trip, as exec does,
// and returns the first command's failure or, when they all succeeded and
// changes wait for replicas, the verdict of their WAIT.
func (s *Store) change(ctx context.Context, cmds ...redis.Cmder) error {
	err, acked := s.write(ctx, cmds)
	if err != nil {
		return err
	}
	return acked
}

// write sends cmds in one round trip: through exec when changes do not
// wait, else in one pipeline followed by a WAIT, on one connection. It
// returns exec's error (the first command's failure; every command keeps
// its own) and, apart, the WAIT's verdict: nil when enough replicas
// acknowledged, or an error wrapping ErrNotReplicated or the WAIT's own
// failure. Callers that look at each command's reply use both.
func (s *Store) write(ctx context.Context, cmds []redis.Cmder) (err, acked error) {
	w := s.wait
	if w == nil {
		return s.exec(ctx, cmds), nil
	}
	wait := redis.NewIntCmd(ctx, "wait", w.replicas, w.timeout.Milliseconds())
	pipe := w.rdb.Pipeline()
	for _, c := range cmds {
		_ = pipe.Process(ctx, c) // queues only; errors come from Exec
	}
	_ = pipe.Process(ctx, wait)
	_, _ = pipe.Exec(ctx)
	for _, c := range cmds {
		if err = c.Err(); err != nil {
			break
		}
	}
	got, werr := wait.Result()
	switch {
	case werr != nil:
		return err, werr
	case got < int64(w.replicas):
		return err, fmt.Errorf("%w: wanted %d, got %d within %v", ErrNotReplicated, w.replicas, got, w.timeout)
	}
	return err, nil
}
