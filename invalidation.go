package hitbox

import "context"

// Invalidation tells a subscriber (a tier, an HTTP cache, a decoded-object
// front) that keys changed somewhere else, so the copies it holds locally
// may be out of date.
type Invalidation struct {
	// Origin is the ID of the writer that made the change (a tier's ID), or
	// "" when the bus cannot tell: with server-assisted tracking the server
	// reports keys, not writers. A subscriber ignores messages carrying its
	// own ID, so its own write never evicts the value it has just cached.
	Origin string
	// Keys are the changed keys as the writer's callers know them: the keys
	// given to its Set and Delete. A bus that observes engine keys (a store prefix
	// added below the tier, for one) maps them back before delivering.
	// Receivers must neither modify Keys nor keep it after they return.
	Keys []string
	// All says that any key may have changed: messages may have been lost
	// (the bus reconnected after a drop, or has just connected) or a shared
	// level was cleared (Redis tracking reports a flush as a null key
	// list). A subscriber then drops everything it holds locally. Keys and
	// Tags are ignored when All is set.
	All bool
	// Down says delivery may have stopped: the bus lost its connection, a
	// health check failed, or its subscription is not yet confirmed. From
	// this message until the next one with All set, a subscriber must not
	// answer a read from a local copy it cannot prove current: it reads
	// through to the shared level, and uses the local copy only when that
	// fails (so an outage fails no read a local copy can answer). The All
	// message that ends the gap clears what it holds. Keys, Tags and All
	// are unset in a Down message.
	Down bool
	// Tags were invalidated (Tagger.InvalidateTags): a subscriber
	// invalidates them in what it holds locally, so an entry that carries
	// one of them is a miss there too. A message may carry Keys and Tags
	// together. Receivers must neither modify Tags nor keep it after they
	// return.
	Tags []string
}

// Bus carries invalidations between instances, typically one per process,
// that share a store, so every instance's local copy (a tier's L1, a
// decoded-object front) drops a key another instance set or deleted. It is
// the contract; implementations live where they fit: LocalBus in this
// package, the Redis buses in store/redisstore.
//
// Two kinds of bus fit: one where tiers publish what they change (an
// application pub/sub channel; the bus is then also a Publisher, and
// messages carry the writer's Origin), and one where the shared store itself
// reports changes (Redis server-assisted client tracking: any write by any
// client invalidates, messages carry keys and no Origin, and there is
// nothing to publish; Options.OwnWrites then keeps a tier's own writes from
// evicting its own fresh L1 copies).
//
// A bus must be safe for concurrent use. A subscriber never closes its bus:
// one bus may serve several, and whoever built it closes it.
type Bus interface {
	// Subscribe registers fn and returns at once; it does not fail.
	// Connecting and reconnecting are the bus's business. As soon as
	// delivery may have stopped (a connection lost, a failed health
	// check), and at once when Subscribe is called while the bus is not
	// connected, the bus delivers an Invalidation with Down set, so a
	// subscriber stops trusting its local copies from the first moment of
	// the gap. When delivery resumes after a possible gap, including the
	// first connection after Subscribe, it delivers one with All set, so
	// nothing a subscriber cached while messages could be missed survives.
	//
	// fn is called from one goroutine at a time per subscription, in the
	// order the bus received the messages. It may block briefly (a tier
	// deletes from its local levels in it) and must not call stop or
	// Publish. A bus may deliver a publisher's own messages back to it.
	//
	// stop ends the subscription. After it returns fn is not running and is
	// never called again. It is idempotent.
	Subscribe(fn func(Invalidation)) (stop func())
}

// Publisher is a Bus on which tiers announce their own changes. A tier whose
// bus is a Publisher publishes after each Set, Delete, Clear and
// InvalidateTags that reached its shared levels, with Origin set to its ID.
// A bus without it (server-assisted tracking) learns of changes from the
// shared store itself.
type Publisher interface {
	// Publish announces inv to every subscriber, this process's included.
	// It returns once the bus has sent the message, not once it has been
	// delivered, and wraps ErrUnavailable when it could not send.
	Publish(ctx context.Context, inv Invalidation) error
}
