package hitbox

// Layer wraps a Backend to add one concern: compression, encoding, metrics.
// It is called once, when a pipeline is built, never per operation.
//
// The Backend a Layer returns must be transparent to everything its concern
// does not own: it passes misses, errors, deadlines and cancellation through
// unchanged, and it implements every optional ability by calling the package
// helper of the same name on the backend it wraps, so a batch stays a batch
// down to a store that can do it, and falls back to a loop only there. A
// layer that changes keys maps them in these too (a key prefix clears its own
// namespace with ClearPrefix).
type Layer func(Backend) Backend

// Layers is an ordered list of layers, outermost first. Build one with
// Chain and finish it with Then.
type Layers []Layer

// Chain lists layers outermost first: the first one listed sees each call
// first on the way down and each answer last on the way up.
func Chain(layers ...Layer) Layers { return Layers(layers) }

// Then wraps b in every layer of l, innermost last, and returns the whole
// pipeline as one Backend. The result is built once; calling it costs one
// interface call per layer.
func (l Layers) Then(b Backend) Backend {
	for i := len(l) - 1; i >= 0; i-- {
		b = l[i](b)
	}
	return b
}

// Append returns a new list with more layers added inside the existing
// ones; l itself is not changed.
func (l Layers) Append(more ...Layer) Layers {
	out := make(Layers, 0, len(l)+len(more))
	return append(append(out, l...), more...)
}
