package redisstore

import "context"

// FlushBus waits until bus, a *TrackingBus or *PubSubBus, has delivered
// everything it received before the call, so tests know the tiers have
// acted on it.
func FlushBus(ctx context.Context, bus any) error {
	switch b := bus.(type) {
	case *TrackingBus:
		return b.h.flush(ctx)
	case *PubSubBus:
		return b.h.flush(ctx)
	}
	panic("FlushBus: not a bus")
}
