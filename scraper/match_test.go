package scraper

import (
	"testing"

	"github.com/shixincheck/shixincheck"
)

func TestMatch(t *testing.T) {
	const id = "420202198001011234"
	const idX = "42020219800101123X"
	tests := []struct {
		name    string
		cand    string // candidate's name
		candID  string
		recName string
		cardNum string
		want    shixincheck.Match
	}{
		{"hit site mask", "张三", id, "张三", "4202021980****1234", shixincheck.MatchHit},
		{"hit full number", "张三", id, "张三", "420202198001011234", shixincheck.MatchHit},
		{"hit 6+4 mask", "张三", id, "张三", "420202****1234", shixincheck.MatchHit},
		{"hit 6+8 stars+4", "张三", id, "张三", "420202********1234", shixincheck.MatchHit},
		{"namesake birth year", "张三", id, "张三", "4202021981****1234", shixincheck.MatchNamesake},
		{"namesake last digits", "张三", id, "张三", "4202021980****1235", shixincheck.MatchNamesake},
		{"namesake 6+4 mask", "张三", id, "张三", "420203****1234", shixincheck.MatchNamesake},
		{"namesake full number", "张三", id, "张三", "420202198001011235", shixincheck.MatchNamesake},
		{"unclear empty", "张三", id, "张三", "", shixincheck.MatchUnclear},
		{"unclear all stars", "张三", id, "张三", "******************", shixincheck.MatchUnclear},
		{"unclear too short", "张三", id, "张三", "42020219", shixincheck.MatchUnclear},
		{"unclear few digits shown", "张三", id, "张三", "4202**************", shixincheck.MatchUnclear},
		{"unclear two star runs", "张三", id, "张三", "420202**12**1234", shixincheck.MatchUnclear},
		{"unclear org code", "张三", id, "张三", "91420200MA4****12", shixincheck.MatchUnclear},
		{"unclear bad candidate id", "张三", "4202021980", "张三", "4202021980****1234", shixincheck.MatchUnclear},
		{"other name", "张三", id, "张三丰", "4202021980****1234", shixincheck.MatchOther},
		{"other name empty", "张三", id, "", "4202021980****1234", shixincheck.MatchOther},
		{"x lower in record", "张三", idX, "张三", "4202021980****123x", shixincheck.MatchHit},
		{"x lower in candidate", "张三", "42020219800101123x", "张三", "4202021980****123X", shixincheck.MatchHit},
		{"x against digit", "张三", idX, "张三", "4202021980****1234", shixincheck.MatchNamesake},
		{"full-width space in name", "张　三", id, "张三", "4202021980****1234", shixincheck.MatchHit},
		{"spaces around name", " 张三 ", id, "张 三", "4202021980****1234", shixincheck.MatchHit},
		{"full-width digits and stars", "张三", id, "张三", "４２０２０２１９８０＊＊＊＊１２３４", shixincheck.MatchHit},
		{"middle dot bullet", "艾力·买买提", id, "艾力•买买提", "4202021980****1234", shixincheck.MatchHit},
		{"middle dot katakana", "艾力・买买提", id, "艾力·买买提", "4202021980****1234", shixincheck.MatchHit},
		{"middle dot half-width katakana", "艾力･买买提", id, "艾力·买买提", "4202021980****1234", shixincheck.MatchHit},
		{"middle dot full stop", "艾力.买买提", id, "艾力·买买提", "4202021980****1234", shixincheck.MatchHit},
		{"middle dot missing is another name", "艾力买买提", id, "艾力·买买提", "4202021980****1234", shixincheck.MatchOther},
		{"latin case", "John Smith", id, "JOHN SMITH", "4202021980****1234", shixincheck.MatchHit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Match(tt.cand, tt.candID, shixincheck.Record{Name: tt.recName, CardNum: tt.cardNum})
			if got != tt.want {
				t.Errorf("Match(%q, %q, {%q, %q}) = %s, want %s", tt.cand, tt.candID, tt.recName, tt.cardNum, got, tt.want)
			}
		})
	}
}
