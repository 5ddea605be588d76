package redisstore

import "strings"

// slots is the number of hash slots a Redis Cluster divides keys among.
const slots = 16384

// crcTable is the CRC-16/XMODEM table (polynomial 0x1021, no reflection),
// the checksum Redis Cluster maps keys to slots with.
var crcTable = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i) << 8
		for range 8 {
			if c&0x8000 != 0 {
				c = c<<1 ^ 0x1021
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()

// slot returns the cluster hash slot of key. As Redis does, it hashes only
// the hash tag when the key has one: the text between the first '{' and the
// first '}' after it, if that text is not empty.
func slot(key string) uint16 {
	if open := strings.IndexByte(key, '{'); open >= 0 {
		if n := strings.IndexByte(key[open+1:], '}'); n > 0 {
			key = key[open+1 : open+1+n]
		}
	}
	var crc uint16
	for i := 0; i < len(key); i++ {
		crc = crc<<8 ^ crcTable[byte(crc>>8)^key[i]]
	}
	return crc % slots
}
