package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hitbox-go/hitbox"
)

// unavailableReplies are the error replies by which a server says it cannot
// serve the command now, rather than that the command is wrong: the cluster
// is down or resharding, the server is loading or lost its master, a
// redirect was still pending when go-redis ran out of redirects.
var unavailableReplies = []string{
	"CLUSTERDOWN", "TRYAGAIN", "MOVED", "ASK", "LOADING", "MASTERDOWN",
	"READONLY", "BUSY", "NOREPLICAS",
}

// cause turns an error from go-redis into the cause the store reports,
// for ctx's operation:
//
//   - a done context: the error wraps ctx.Err() (context.Canceled or
//     context.DeadlineExceeded), and not hitbox.ErrUnavailable, because the
//     caller stopped waiting; the server may be fine;
//   - a closed client: hitbox.ErrClosed;
//   - an error reply that means the command itself failed (out of memory,
//     no permission): the reply as it is;
//   - anything else (refused or dropped connection, I/O timeout, an empty
//     pool, a cluster that is down or a redirect that failed): it wraps
//     hitbox.ErrUnavailable and the go-redis error, so errors.Is sees both.
//
// redis.Nil never reaches it: callers turn it into a miss first.
func cause(ctx context.Context, err error) error {
	if ctxErr := ctxDone(ctx); ctxErr != nil {
		if errors.Is(err, ctxErr) {
			return err
		}
		// The context's deadline also cut the network I/O short.
		return fmt.Errorf("%w: %w", ctxErr, err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err // a context go-redis derived from ctx
	}
	if errors.Is(err, redis.ErrClosed) {
		return fmt.Errorf("%w: %w", hitbox.ErrClosed, err)
	}
	var reply redis.Error
	if errors.As(err, &reply) && !unavailableReply(reply.Error()) {
		return err
	}
	return fmt.Errorf("%w: %w", hitbox.ErrUnavailable, err)
}

// ctxDone returns ctx's error, or context.DeadlineExceeded once ctx's
// deadline has passed even if ctx does not say so yet: go-redis sets that
// deadline on the socket, and the socket's timeout may fire a moment before
// the context's own timer does.
func ctxDone(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

func unavailableReply(msg string) bool {
	for _, p := range unavailableReplies {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// wrongType reports the reply Redis gives when the key holds a list, a set
// or another non-string, which the store never writes.
func wrongType(err error) bool {
	var reply redis.Error
	return errors.As(err, &reply) && strings.HasPrefix(reply.Error(), "WRONGTYPE")
}
