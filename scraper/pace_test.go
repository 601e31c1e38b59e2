package scraper

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shixincheck/shixincheck/courtsim"
)

// arrival is one request as the site saw it arrive.
type arrival struct {
	path   string
	search bool // page 1 of a list: a new search
	at     time.Time
}

// arrivals records when the requests to some paths reach the site.
type arrivals struct {
	next  http.Handler
	paths []string

	mu   sync.Mutex
	seen []arrival
}

func (a *arrivals) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	if slices.Contains(a.paths, r.URL.Path) {
		_ = r.ParseForm() // the site's handler parses it again: a no-op
		a.mu.Lock()
		a.seen = append(a.seen, arrival{path: r.URL.Path, search: r.Method == "POST" && r.PostForm.Get("currentPage") == "1", at: at})
		a.mu.Unlock()
	}
	a.next.ServeHTTP(w, r)
}

// checkGaps fails the test unless every request came at least fetch after
// the one before it and every search at least search after the search
// before it, and unless there were searches and further requests to check.
func (a *arrivals) checkGaps(t *testing.T, search, fetch time.Duration, wantSearches, wantOthers int) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	searches, others := 0, 0
	var lastSearch time.Time
	for i, x := range a.seen {
		if i > 0 {
			if gap := x.at.Sub(a.seen[i-1].at); gap < fetch {
				t.Errorf("request %d (%s) came %s after the one before, want at least %s", i, x.path, gap, fetch)
			}
		}
		if !x.search {
			others++
			continue
		}
		if searches > 0 {
			if gap := x.at.Sub(lastSearch); gap < search {
				t.Errorf("search %d came %s after the one before, want at least %s", searches+1, gap, search)
			}
		}
		searches++
		lastSearch = x.at
	}
	if searches < wantSearches || others < wantOthers {
		t.Fatalf("%d searches and %d further requests seen, want at least %d and %d: the gaps prove nothing",
			searches, others, wantSearches, wantOthers)
	}
}

// The site never gets two requests of a tab closer than the pace: further
// result pages and details wait FetchPace after the answer before them, and
// a search waits Pace after the search before it.
func TestPacing(t *testing.T) {
	const pace, fetchPace = 700 * time.Millisecond, 150 * time.Millisecond
	sim, err := courtsim.New(simConfig())
	if err != nil {
		t.Fatal(err)
	}
	book := &imageBook{sim: sim, codes: map[[32]byte]string{}}
	log := &arrivals{next: book, paths: []string{classicSite.ListPath, classicSite.DetailPath, classicSite.CheckPath}}
	srv := httptest.NewServer(log)
	t.Cleanup(srv.Close)
	e := &env{sim: sim, srv: srv, book: book, solver: &testSolver{book: book}}
	s := e.newScraper(t, Config{BaseURL: srv.URL, ProfileDir: filepath.Join(t.TempDir(), "p"), Tabs: 1,
		Pace: pace, FetchPace: fetchPace})
	clean := e.people(t, "clean", 2)
	multi := e.people(t, "multipage", 1)[0]
	for _, p := range append(clean, multi) {
		res, err := s.Check(context.Background(), p.Name, p.IDNumber)
		if err != nil || res.Hits() != p.Records {
			t.Fatalf("check: %v, %d hits, want %d", err, res.Hits(), p.Records)
		}
	}
	// Two clean people answered at once: only the pace keeps their searches apart.
	log.checkGaps(t, pace, fetchPace, 3, 1+multi.Records)
}

func TestGkwPacing(t *testing.T) {
	const pace, fetchPace = 700 * time.Millisecond, 150 * time.Millisecond
	sim, err := courtsim.New(gkwSimConfig())
	if err != nil {
		t.Fatal(err)
	}
	log := &arrivals{next: sim, paths: []string{gkwSite.Search.ListPath, gkwSite.DetailPath}}
	srv := httptest.NewServer(log)
	t.Cleanup(srv.Close)
	e := &gkwEnv{sim: sim, srv: srv, person: newGkwPerson(sim)}
	e.scraper = startScraper(t, Config{Site: "gkw", BaseURL: srv.URL, ProfileDir: filepath.Join(t.TempDir(), "p"), Tabs: 1,
		Pace: pace, FetchPace: fetchPace}, e.person)
	clean := e.people(t, "clean", 2)
	multi := e.smallestMultipage(t)
	for _, p := range append(clean, multi) {
		res, err := e.scraper.Check(context.Background(), p.Name, p.IDNumber)
		if err != nil || res.Hits() != p.Records {
			t.Fatalf("check: %v, %d hits, want %d", err, res.Hits(), p.Records)
		}
	}
	if err := e.person.problem(); err != nil {
		t.Error(err)
	}
	log.checkGaps(t, pace, fetchPace, 3, 1+multi.Records)
}
