package shixincheck_test

import (
	"testing"

	"github.com/shixincheck/shixincheck"
	"github.com/shixincheck/shixincheck/roster"
	"github.com/shixincheck/shixincheck/scraper"
)

// TestMiddleDotsReadAlikeByIntakeAndMatching: every look-alike of the
// middle dot becomes U+00B7 on intake, and a court record written with it
// matches a candidate written with U+00B7, so the two lists cannot drift.
func TestMiddleDotsReadAlikeByIntakeAndMatching(t *testing.T) {
	const id = "420202198001011237"
	if !shixincheck.IsMiddleDot(shixincheck.MiddleDot) || shixincheck.IsMiddleDot('-') || shixincheck.IsMiddleDot('、') {
		t.Fatal("IsMiddleDot does not follow MiddleDots")
	}
	for _, dot := range shixincheck.MiddleDots {
		written := "艾力" + string(dot) + "买买提"
		name, err := roster.NormalizeName(written)
		if err != nil || name != "艾力·买买提" {
			t.Errorf("intake of %q (U+%04X) = %q, %v; want 艾力·买买提", written, dot, name, err)
		}
		rec := shixincheck.Record{Name: written, CardNum: "4202021980****1237"}
		if m := scraper.Match("艾力·买买提", id, rec); m != shixincheck.MatchHit {
			t.Errorf("record named %q (U+%04X) against 艾力·买买提: %s, want a hit", written, dot, m)
		}
	}
}
