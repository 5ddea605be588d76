// Package tier composes backends into levels (L1, L2, L3, ...), with read,
// write and refill policies, isolation of failing levels, bounded background
// work and, through a Bus, L1s kept coherent across instances.
package tier
