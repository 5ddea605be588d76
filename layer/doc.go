// Package layer holds the dependency-light layers of a hitbox pipeline, one
// concern per file: Compress, Encode, Prefix, Timeout and MaxSize.
//
// Each constructor returns a hitbox.Layer, and a pipeline lists them
// outermost first, ending in a store (the package's Example):
//
//	pipeline := hitbox.Chain(
//		layer.Timeout(50*time.Millisecond), // bounds each call below
//		layer.Prefix("users:"),             // one namespace of a shared store
//		layer.Compress(codec.Zstd()),       // values of 192 B and more
//		layer.Encode(),                     // value and both deadlines in one checked envelope
//	).Then(store)
//
// On Set an entry goes down the list: Compress shrinks the value, Encode
// packs value, Expire and Stale into one byte string, the store keeps it.
// On Get the answer comes back up and each layer undoes its step. Compress
// above Encode is the usual order: the envelope checks the compressed bytes,
// so damage is caught before anything is decompressed.
//
// Every layer is transparent to what it does not own: misses and errors pass
// up wrapped, never replaced; contexts pass down; batch reads and writes stay
// batches (each layer implements every optional ability through the hitbox
// helpers); tags pass down beside the value (each layer is a hitbox.Tagger
// through hitbox.SetTagged, GetTagged and InvalidateTags, which say
// hitbox.ErrNotSupported over a store that keeps no tags, and Prefix
// namespaces them as it does keys); leases pass down too (each layer is a
// hitbox.Leaser through hitbox.TakeLease and SetLeased, which hand out the
// zero Lease and store unconditionally over a store without the ability;
// SetLeased transforms and limits the value as Set does, and Prefix
// namespaces the key and tags); Label is the store's, and Unwrap returns
// the next backend down. Bytes a layer cannot read back are an error wrapping
// hitbox.ErrCorrupt, never a panic, and the layer deletes the damaged key so
// the next read is a plain miss.
package layer
