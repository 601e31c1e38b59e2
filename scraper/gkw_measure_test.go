package scraper

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shixincheck/shixincheck/courtsim"
)

// Measurements of the gkw profile, not part of the default test run (they
// take minutes): set SCRAPER_MEASURE=1.
//
//	SCRAPER_MEASURE=1 go test -run TestGkwMeasure -v ./scraper/
//
// SCRAPER_MEASURE_PACE sets Config.Pace (default: no pacing, e.g. 3s for
// the daemon's default).

func measureEnv(t *testing.T) {
	t.Helper()
	if os.Getenv("SCRAPER_MEASURE") == "" {
		t.Skip("set SCRAPER_MEASURE=1 to measure")
	}
}

// TestGkwMeasureBatch checks a 200-person batch in one tab with the
// simulator's default verification (60 s, 20 searches) and widget delay
// (1 s), and reports the candidates checked per verification.
func TestGkwMeasureBatch(t *testing.T) {
	measureEnv(t)
	pace, fetchPace := time.Duration(-1), time.Duration(-1)
	if v := os.Getenv("SCRAPER_MEASURE_PACE"); v != "" { // paced: the fetch pace at its default too
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatal(err)
		}
		pace, fetchPace = d, time.Second
	}
	simCfg := courtsim.DefaultConfig()
	simCfg.SideDoor = true
	simCfg.Sites = []string{courtsim.SiteGkw}
	e := newGkwEnv(t, simCfg, Config{Tabs: 1, Pace: pace, FetchPace: fetchPace})
	// A batch as an office uploads it: mostly people with no record.
	var people []courtsim.Person
	for _, kind := range []struct {
		kind string
		n    int
	}{{"listed", 36}, {"multipage", 2}, {"namesake", 12}, {"clean", 150}} {
		people = append(people, e.people(t, kind.kind, kind.n)...)
	}
	ctx := context.Background()
	start := time.Now()
	searches, refusals, records, details := 0, 0, 0, 0
	for i, p := range people {
		res, err := e.scraper.Check(ctx, p.Name, p.IDNumber)
		if err != nil {
			t.Fatalf("check %d: %v", i, err)
		}
		if res.Hits() != p.Records {
			t.Fatalf("check %d: %d hits, want %d", i, res.Hits(), p.Records)
		}
		records += len(res.Records)
		for _, a := range answers(t, res) {
			switch {
			case refused(a):
				refusals++
			case strings.HasPrefix(a.URL, gkwSite.Search.ListPath+"?"):
				searches++
			default:
				details++
			}
		}
	}
	elapsed := time.Since(start)
	sessions, kinds, reports := e.person.seen()
	t.Logf("%d people (%d records, %d searches incl. page turns, %d details) in %s with pace %s, fetch pace %s",
		len(people), records, searches, details, elapsed.Round(time.Second), pace, fetchPace)
	t.Logf("%d verifications (%v), %d refused answers, reports %d: %.1f candidates per verification, %.1f searches per verification",
		sessions, kinds, refusals, len(reports), float64(len(people))/float64(sessions), float64(searches)/float64(sessions))
}

// TestGkwMeasurePicture measures the scraper's part of the time from a
// person's action to the new picture: replaying the action, waiting for the
// widget to show whether it sends a check (Settle), and taking the picture.
// Word-click challenges answered one click a round give three new pictures
// each; sliders give the replay's cost beyond the drag's own duration.
func TestGkwMeasurePicture(t *testing.T) {
	measureEnv(t)
	for _, kind := range []string{"WORD_IMAGE_CLICK", "SLIDER"} {
		t.Run(kind, func(t *testing.T) {
			simCfg := gkwSimConfig()
			simCfg.GkwCaptchaType = kind
			simCfg.GkwTokenUses = 1 // a verification for every search
			sim, err := courtsim.New(simCfg)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(sim)
			defer srv.Close()
			person := newGkwPerson(sim)
			person.clicksPerRound = 1
			rec := &logRecorder{}
			s, err := New(context.Background(), Config{BaseURL: srv.URL, ProfileDir: filepath.Join(t.TempDir(), "p"),
				Tabs: 1, Pace: -1, FetchPace: -1, Site: "gkw"}, person, slog.New(rec))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			clean, err := sim.People("clean", 30)
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range clean {
				if _, err := s.Check(context.Background(), p.Name, p.IDNumber); err != nil {
					t.Fatalf("check %d: %v", i, err)
				}
			}
			toPicture := rec.values("gkw new picture", "action_to_picture_ms")
			picture := rec.values("gkw new picture", "picture_ms")
			replay := rec.values("gkw actions replayed", "replay_ms")
			trajectory := rec.values("gkw actions replayed", "trajectory_ms")
			var overhead []int64
			for i := range replay {
				overhead = append(overhead, replay[i]-trajectory[i])
			}
			t.Logf("%s: action to new picture median %d ms (p90 %d, n %d); picture median %d ms; replay median %d ms, beyond the trajectory %d ms (n %d)",
				kind, median(toPicture), p90(toPicture), len(toPicture), median(picture), median(replay), median(overhead), len(replay))
		})
	}
}

// logRecorder keeps the integer attributes of the log records.
type logRecorder struct {
	mu   sync.Mutex
	recs []map[string]int64
	msgs []string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }

func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	m := map[string]int64{}
	r.Attrs(func(a slog.Attr) bool {
		if a.Value.Kind() == slog.KindInt64 {
			m[a.Key] = a.Value.Int64()
		}
		return true
	})
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, m)
	l.msgs = append(l.msgs, r.Message)
	return nil
}

// values returns an attribute of the records with a message.
func (l *logRecorder) values(msg, key string) []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []int64
	for i, m := range l.msgs {
		if v, ok := l.recs[i][key]; ok && m == msg {
			out = append(out, v)
		}
	}
	return out
}

func median(v []int64) int64 { return quantile(v, 0.5) }
func p90(v []int64) int64    { return quantile(v, 0.9) }

func quantile(v []int64, q float64) int64 {
	if len(v) == 0 {
		return -1
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1))]
}
