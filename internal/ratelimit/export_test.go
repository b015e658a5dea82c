package ratelimit

import "net/netip"

// AddrKey is a limit's counter key of a client address.
func AddrKey(name string, a netip.Addr) string { return (&limit{name: name}).addrKey(a) }
