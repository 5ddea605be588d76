package main

import "bytes"

// Where a bodyScan (and the framingConn or codingConn it is part of) is in
// one direction of a connection's byte stream.
const (
	inHeader    = iota // collecting a message's header
	inBody             // passing left bytes of a body with a length
	inChunkSize        // reading a chunk-size line
	inChunkData        // passing left bytes of chunk data, then its CRLF
	inTrailer          // reading trailer lines up to an empty one
	lost               // no longer following (an upgrade, a body to the close, something unparsed)
)

// maxChunkLine bounds a chunk-size or trailer line; past it net/http
// refuses the message anyway.
const maxChunkLine = 4096

// bodyScan follows the bodies of the messages on one direction of a
// connection: a body with a length, and a chunked body chunk by chunk to
// the end of its trailer. framingConn (requests) and codingConn
// (responses) read the headers themselves and set the framing each
// header announces.
type bodyScan struct {
	state int
	left  int64  // inBody, inChunkData: bytes to pass
	line  []byte // inChunkSize, inTrailer: the line so far
}

// chunked starts a chunked body.
func (b *bodyScan) chunked() { b.state, b.line = inChunkSize, b.line[:0] }

// pass follows body bytes at the front of p and returns how many there are
// before the next header begins: all of p when none does, or once the scan
// is lost.
func (b *bodyScan) pass(p []byte) int {
	i := 0
	for i < len(p) {
		switch b.state {
		case inHeader:
			return i
		case inBody, inChunkData:
			k := min(int64(len(p)-i), b.left)
			b.left -= k
			i += int(k)
			if b.left == 0 {
				if b.state == inBody {
					b.state = inHeader
				} else {
					b.chunked()
				}
			}
		case inChunkSize, inTrailer:
			j := bytes.IndexByte(p[i:], '\n')
			if j < 0 {
				b.line = append(b.line, p[i:]...)
				if len(b.line) > maxChunkLine {
					b.state = lost
				}
				return len(p)
			}
			b.line = append(b.line, p[i:i+j+1]...)
			i += j + 1
			b.endLine()
		default: // lost
			return len(p)
		}
	}
	return i
}

// endLine acts on a complete chunk-size or trailer line.
func (b *bodyScan) endLine() {
	line := bytes.TrimRight(b.line, "\r\n")
	b.line = b.line[:0]
	if b.state == inTrailer {
		if len(line) == 0 {
			b.state = inHeader
		}
		return
	}
	if len(line) == 0 {
		return // the CRLF that ends chunk data
	}
	size, ok := chunkSize(line)
	switch {
	case !ok:
		b.state = lost // net/http refuses the message
	case size == 0:
		b.state = inTrailer
	default:
		b.state, b.left = inChunkData, size+2 // the data and its CRLF
	}
}
