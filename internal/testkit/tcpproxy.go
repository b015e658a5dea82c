package testkit

import (
	"io"
	"net"
	"sync"
	"testing"
)

// TCPProxy forwards TCP connections to a server and fails the way a network does
// on command: Cut refuses connections, Stall swallows them, Restore heals. It listens
// on one loopback address for its whole life, so a client keeps its configuration.
type TCPProxy struct {
	t      testing.TB
	target string
	addr   string

	mu      sync.Mutex
	ln      net.Listener // nil while cut
	stalled bool
	conns   map[net.Conn]struct{} // every open connection, both sides
	wg      sync.WaitGroup
}

// StartTCPProxy forwards a new loopback address to target until the test ends.
func StartTCPProxy(t testing.TB, target string) *TCPProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &TCPProxy{t: t, target: target, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	p.serve(ln)
	t.Cleanup(func() {
		p.Cut()
		p.wg.Wait()
	})
	return p
}

// Addr is the proxy's address.
func (p *TCPProxy) Addr() string { return p.addr }

// Cut closes the listener and every connection: clients see their connections
// drop and new dials refused, as when the server is down.
func (p *TCPProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	p.closeConnsLocked()
}

// Stall closes every connection and then accepts new ones without forwarding or
// answering anything: a server that hangs, which only a timeout ends.
func (p *TCPProxy) Stall() {
	p.mu.Lock()
	p.stalled = true
	p.closeConnsLocked()
	ln := p.ln
	p.mu.Unlock()
	if ln == nil {
		p.listen()
	}
}

// Restore forwards again on the same address, after Cut or Stall.
func (p *TCPProxy) Restore() {
	p.mu.Lock()
	wasStalled := p.stalled
	p.stalled = false
	if wasStalled {
		p.closeConnsLocked() // the swallowed ones would never answer
	}
	ln := p.ln
	p.mu.Unlock()
	if ln == nil {
		p.listen()
	}
}

func (p *TCPProxy) listen() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy: listening again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

func (p *TCPProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed by Cut
			}
			p.handle(c)
		}
	}()
}

func (p *TCPProxy) handle(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		c.Close()
		return
	}
	p.conns[c] = struct{}{}
	if p.stalled {
		return // held open, never read, until Restore or Cut
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.drop(c)
			return
		}
		if !p.track(up) {
			up.Close()
			p.drop(c)
			return
		}
		done := make(chan struct{}, 2)
		// Either direction ending (EOF, a reset, a Cut) ends the pair.
		pipe := func(dst, src net.Conn) {
			_, _ = io.Copy(dst, src)
			done <- struct{}{}
		}
		go pipe(up, c)
		go pipe(c, up)
		<-done
		p.drop(c)
		p.drop(up)
		<-done
	}()
}

// track registers a connection unless the proxy was cut meanwhile.
func (p *TCPProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, open := p.conns[c]; open || p.ln == nil {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *TCPProxy) drop(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
	c.Close()
}

func (p *TCPProxy) closeConnsLocked() {
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}
