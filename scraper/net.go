package scraper

import (
	"context"
	"errors"
	"sync"

	"github.com/go-rod/rod/lib/proto"
)

// exchange is one HTTP request of a tab as the browser's network layer saw it.
type exchange struct {
	id       proto.NetworkRequestID
	method   string
	url      string
	kind     proto.NetworkResourceType
	frame    proto.PageFrameID
	status   int    // status of the final response, 0 if none came
	redirect int    // status of a redirect on the way, 0 if none
	mime     string // MIME type of the final response
	failed   string // network error text when loading failed
	done     bool   // loading finished or failed: the fields above are final
}

// netLog follows the network events of one tab and hands the requests that
// match a watch to whoever waits on that watch.
type netLog struct {
	mu      sync.Mutex
	pending map[proto.NetworkRequestID]*exchange
	watches map[*netWatch]bool
	broken  string // why the tab can no longer be followed, "" while it can
}

// netWatch collects the requests matching a predicate, in the order they
// were sent, and counts the load events of the tab's document.
type netWatch struct {
	match  func(method, url string, kind proto.NetworkResourceType) bool
	list   []*exchange   // guarded by netLog.mu
	loads  int           // guarded by netLog.mu
	notify chan struct{} // signalled after every change
}

func newNetLog() *netLog {
	return &netLog{pending: map[proto.NetworkRequestID]*exchange{}, watches: map[*netWatch]bool{}}
}

// watch starts collecting matching requests. Register it before the action
// that sends them; stop it with unwatch.
func (n *netLog) watch(match func(method, url string, kind proto.NetworkResourceType) bool) *netWatch {
	w := &netWatch{match: match, notify: make(chan struct{}, 1)}
	n.mu.Lock()
	n.watches[w] = true
	n.mu.Unlock()
	return w
}

func (n *netLog) unwatch(w *netWatch) {
	n.mu.Lock()
	delete(n.watches, w)
	n.mu.Unlock()
}

// wait blocks until cond holds for the watch's requests (only finished ones
// are passed, as copies, in the order they were sent) and load count.
func (n *netLog) wait(ctx context.Context, w *netWatch, cond func(done []exchange, loads int) bool) ([]exchange, int, error) {
	for {
		n.mu.Lock()
		var done []exchange
		for _, e := range w.list {
			if e.done {
				done = append(done, *e)
			}
		}
		loads, broken := w.loads, n.broken
		n.mu.Unlock()
		if cond(done, loads) {
			return done, loads, nil
		}
		if broken != "" {
			return done, loads, errors.New(broken)
		}
		select {
		case <-w.notify:
		case <-ctx.Done():
			return done, loads, ctx.Err()
		}
	}
}

// waitN waits until n requests of the watch finished and returns the first n.
func (n *netLog) waitN(ctx context.Context, w *netWatch, count int) ([]exchange, error) {
	done, _, err := n.wait(ctx, w, func(done []exchange, _ int) bool { return len(done) >= count })
	if err != nil {
		return nil, err
	}
	return done[:count], nil
}

func (n *netLog) changedLocked() {
	for w := range n.watches {
		select {
		case w.notify <- struct{}{}:
		default:
		}
	}
}

func (n *netLog) requestSent(e *proto.NetworkRequestWillBeSent) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if ex := n.pending[e.RequestID]; ex != nil && e.RedirectResponse != nil {
		ex.redirect = e.RedirectResponse.Status
		ex.url = e.Request.URL
		return
	}
	var ex *exchange
	for w := range n.watches {
		if !w.match(e.Request.Method, e.Request.URL, e.Type) {
			continue
		}
		if ex == nil {
			ex = &exchange{id: e.RequestID, method: e.Request.Method, url: e.Request.URL, kind: e.Type, frame: e.FrameID}
			n.pending[e.RequestID] = ex
		}
		w.list = append(w.list, ex)
	}
	if ex != nil {
		n.changedLocked()
	}
}

// sent counts the requests of the watch to path, finished or not.
func (n *netLog) sent(w *netWatch, path string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	count := 0
	for _, e := range w.list {
		if pathOf(e.url) == path {
			count++
		}
	}
	return count
}

func (n *netLog) responseReceived(e *proto.NetworkResponseReceived) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if ex := n.pending[e.RequestID]; ex != nil {
		ex.status = e.Response.Status
		ex.mime = e.Response.MIMEType
	}
}

func (n *netLog) finished(id proto.NetworkRequestID, failure string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	ex := n.pending[id]
	if ex == nil {
		return
	}
	delete(n.pending, id)
	ex.failed = failure
	ex.done = true
	n.changedLocked()
}

func (n *netLog) loaded() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for w := range n.watches {
		w.loads++
	}
	n.changedLocked()
}

// broke records that the tab's events stopped (crash, closed tab, dead
// browser) and wakes the waiters.
func (n *netLog) broke(reason string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.broken == "" {
		n.broken = reason
	}
	n.changedLocked()
}

func (n *netLog) isBroken() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.broken != ""
}
