package codec

import (
	"encoding"
	"encoding/gob"
	"reflect"

	"github.com/vmihailenco/msgpack/v5"
)

// markerTypes are the interfaces through which gob and msgpack let a type
// encode itself. Both refuse a value (not a pointer) whose methods have
// pointer receivers, as it is not addressable, so Marshal(v) would fail
// where Marshal(&v) works.
var markerTypes = []reflect.Type{
	reflect.TypeFor[encoding.BinaryMarshaler](),
	reflect.TypeFor[encoding.TextMarshaler](),
	reflect.TypeFor[gob.GobEncoder](),
	reflect.TypeFor[msgpack.CustomEncoder](),
	reflect.TypeFor[msgpack.Marshaler](),
}

// withPointerMethods returns a pointer to a copy of v when only *T has one
// of the marshalling methods, so those formats accept v and &v alike.
// Otherwise it returns v: no copy for the common case.
func withPointerMethods(v any) any {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() == reflect.Pointer {
		return v
	}
	pt := reflect.PointerTo(t)
	if pt.NumMethod() == t.NumMethod() {
		return v // no method has a pointer receiver
	}
	for _, m := range markerTypes {
		if pt.Implements(m) && !t.Implements(m) {
			return addressable(v)
		}
	}
	return v
}

// addressable returns a pointer to a copy of v, so a value whose methods
// have pointer receivers can still be marshalled; nil when v is nil.
func addressable(v any) any {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return nil
	}
	p := reflect.New(rv.Type())
	p.Elem().Set(rv)
	return p.Interface()
}

// isNilPointer reports whether v is a typed nil pointer, whose methods the
// user's type may not expect to be called on.
func isNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}
