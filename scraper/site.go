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
// of it, the way a search page is loaded through them, and a page kept as
// evidence.

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

// pageScript returns the page as it shows now, to keep as evidence: the
// form's current values written into its attributes (typing and scripts set
// values, not attributes, and the evidence must show what was searched),
// scripts removed, and a <base> so that the saved file still finds the
// site's styles and images. One call into the page, a few ms of its time.
const pageScript = `() => {
	document.querySelectorAll('input').forEach((e) => {
		if (e.type === 'checkbox' || e.type === 'radio') e.toggleAttribute('checked', e.checked);
		else if (e.type !== 'password') e.setAttribute('value', e.value);
	});
	document.querySelectorAll('option').forEach((o) => o.toggleAttribute('selected', o.selected));
	const doc = document.documentElement.cloneNode(true);
	doc.querySelectorAll('script, noscript').forEach((e) => e.remove());
	const head = doc.querySelector('head');
	if (head) {
		head.querySelectorAll('base').forEach((e) => e.remove());
		const base = document.createElement('base');
		base.href = document.baseURI;
		const charset = document.createElement('meta');
		charset.setAttribute('charset', 'utf-8');
		head.prepend(charset, base);
	}
	return '<!DOCTYPE html>\n' + doc.outerHTML;
}`

// pageMIME is the type of a page kept as evidence. The web server hands it
// out as a download, never as a page of its own origin.
const pageMIME = "text/html; charset=utf-8"

// pageHTML returns the page as it shows now (pageScript).
func pageHTML(ctx context.Context, p *rod.Page) ([]byte, error) {
	res, err := p.Context(ctx).Evaluate(rod.Eval(pageScript))
	if err != nil {
		return nil, fmt.Errorf("page html: %w", err)
	}
	html := res.Value.Str()
	if html == "" {
		return nil, errors.New("page html: empty")
	}
	return []byte(html), nil
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

// keepPage keeps the page as it shows now as evidence, as name.html.
func keepPage(ctx context.Context, page *rod.Page, r *run, timeout time.Duration, name string) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	data, err := pageHTML(ctx, page)
	if err != nil {
		return stepError("evidence "+name, err)
	}
	r.keepFile(name+".html", pageMIME, data)
	return nil
}
