package scraper

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"

	"github.com/shixincheck/shixincheck"
)

// What every version of the site shares: the WAF and overload pages in front
// of it, the way a search page is loaded through them, and the browser's own
// snapshot of a page kept as evidence.

// blocking is how the site says it is blocking or overloaded. Each site
// profile holds its own copy, so a change of one version is one file.
type blocking struct {
	BlockedStatus []int    // HTTP statuses of the WAF and of an overloaded site
	BlockedTexts  []string // texts of pages served instead of an answer when blocked
	MaxWAFPages   int      // WAF challenge pages in a row before the load counts as blocked
}

// failure classifies an answer that is not what was asked for: a network
// failure, a redirect, a blocking status, a page instead of data. It returns
// nil when the answer has status 200 and is not a page.
func (p *blocking) failure(ex exchange, body []byte) error {
	switch {
	case ex.failed != "":
		return shixincheck.Errorf(shixincheck.KindTimeout, "network: %s", ex.failed)
	case ex.redirect != 0:
		return shixincheck.Errorf(shixincheck.KindBlocked, "redirected (status %d)", ex.redirect)
	case slices.Contains(p.BlockedStatus, ex.status):
		return shixincheck.Errorf(shixincheck.KindBlocked, "status %d", ex.status)
	case ex.status != 200:
		return shixincheck.Errorf(shixincheck.KindUnrecognised, "status %d", ex.status)
	}
	return p.pageInstead(body)
}

// pageInstead tells whether body is a page (HTML or a notice) rather than
// data: a page with a known blocking text is KindBlocked, any other KindUnrecognised.
func (p *blocking) pageInstead(body []byte) error {
	for _, text := range p.BlockedTexts {
		if bytes.Contains(body, []byte(text)) {
			return shixincheck.Errorf(shixincheck.KindBlocked, "site busy or blocking (%d bytes)", len(body))
		}
	}
	if t := bytes.TrimSpace(body); len(t) > 0 && t[0] == '<' {
		return shixincheck.Errorf(shixincheck.KindUnrecognised, "a page instead of data (%d bytes)", len(body))
	}
	return nil
}

// loadPage navigates the tab to u, lets the WAF's challenge pages set their
// cookie and reload, and returns the document that finally answered 200. w
// is a watch of every request, registered before, that the caller may read on.
func loadPage(ctx context.Context, t *tab, w *netWatch, u string, b *blocking) (*exchange, error) {
	if err := t.page.Context(ctx).Navigate(u); err != nil {
		var nav *rod.NavigationError
		if errors.As(err, &nav) { // the site cannot be reached
			return nil, shixincheck.Errorf(shixincheck.KindTimeout, "load search page: network: %s", nav.Reason)
		}
		return nil, stepError("load search page", err)
	}
	for seen := 0; ; {
		done, loads, err := t.net.wait(ctx, w, func(_ []exchange, loads int) bool { return loads > seen })
		doc := lastDocument(done, t.page.FrameID)
		if err != nil {
			if doc != nil && slices.Contains(b.BlockedStatus, doc.status) {
				return nil, shixincheck.Errorf(shixincheck.KindBlocked, "load search page: status %d", doc.status)
			}
			return nil, stepError("load search page", err)
		}
		seen = loads
		if doc == nil {
			continue // the load of a page we did not ask for (about:blank)
		}
		if doc.status == 200 {
			return doc, nil
		}
		if doc.failed != "" || !slices.Contains(b.BlockedStatus, doc.status) {
			return nil, stepError("load search page", b.failure(*doc, nil))
		}
		// A challenge page: its script sets the cookie and reloads.
		if seen > b.MaxWAFPages {
			return nil, shixincheck.Errorf(shixincheck.KindBlocked, "load search page: %d challenge pages", seen)
		}
	}
}

// lastDocument returns the latest main-frame document request among done.
func lastDocument(done []exchange, frame proto.PageFrameID) *exchange {
	for i := len(done) - 1; i >= 0; i-- {
		if done[i].kind == proto.NetworkResourceTypeDocument && done[i].frame == frame {
			return &done[i]
		}
	}
	return nil
}

// formStateScript writes the form's current values into its attributes: a
// snapshot keeps attributes, not values set by typing or by script, and the
// evidence must show what was searched.
const formStateScript = `() => {
	document.querySelectorAll('input').forEach((e) => {
		if (e.type === 'checkbox' || e.type === 'radio') e.toggleAttribute('checked', e.checked);
		else if (e.type !== 'password') e.setAttribute('value', e.value);
	});
	document.querySelectorAll('option').forEach((o) => o.toggleAttribute('selected', o.selected));
}`

// snapshotMIME is the type of an MHTML file (RFC 2557).
const snapshotMIME = "multipart/related"

// snapshot is Chromium's own MHTML snapshot of the page as it shows it: the
// DOM with its styles and images, without scripts, in one file that Chrome
// and Edge open as the page. It costs a few ms where a PDF print cost
// 150 ms (README, Benchmarks), and needs no rendered frame, so a tab in
// the background is captured as well.
func snapshot(ctx context.Context, p *rod.Page) ([]byte, error) {
	p = p.Context(ctx)
	if _, err := p.Evaluate(rod.Eval(formStateScript)); err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	res, err := proto.PageCaptureSnapshot{Format: proto.PageCaptureSnapshotFormatMhtml}.Call(p)
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	if res.Data == "" {
		return nil, errors.New("snapshot: empty")
	}
	return []byte(res.Data), nil
}

// keepFile adds a page as the browser showed it to the run's evidence; a
// page kept again (after a captcha expired) replaces the first one.
func (r *run) keepFile(name, mime string, data []byte) {
	f := shixincheck.EvidenceFile{Name: name, MIME: mime, Data: data}
	for i := range r.files {
		if r.files[i].Name == name {
			r.files[i] = f
			return
		}
	}
	r.files = append(r.files, f)
}

// keepPage keeps a snapshot of a page as evidence, as name.mhtml.
func keepPage(ctx context.Context, page *rod.Page, r *run, timeout time.Duration, name string) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	data, err := snapshot(ctx, page)
	if err != nil {
		return stepError("evidence "+name, err)
	}
	r.keepFile(name+".mhtml", snapshotMIME, data)
	return nil
}
