package courtsim

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// validID checks an 18-character ID on its own terms (not with checkDigit's
// table lookup), so a wrong check digit in the generator would show here.
func validID(id string) bool {
	if len(id) != 18 {
		return false
	}
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
		sum += int(id[i]-'0') * w
	}
	last := int(id[17] - '0')
	if id[17] == 'X' {
		last = 10
	}
	// ISO 7064 MOD 11-2: the whole number including the check value is 1 mod 11.
	return (sum+last)%11 == 1
}

func TestCheckDigitKnownIDs(t *testing.T) {
	// The examples of GB 11643-1999.
	for _, id := range []string{"11010519491231002X", "440524188001010014"} {
		if got := checkDigit(id[:17]); got != id[17] {
			t.Errorf("checkDigit(%s) = %c, want %c", id[:17], got, id[17])
		}
		if !validID(id) {
			t.Errorf("validID(%s) = false", id)
		}
	}
	if validID("110105194912310021") {
		t.Error("validID accepted a wrong check digit")
	}
}

func newTestDataset(t *testing.T, seed int64) *dataset {
	t.Helper()
	d, err := newDataset(seed, 5000)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDatasetDeterministic(t *testing.T) {
	a, b, c := newTestDataset(t, 7), newTestDataset(t, 7), newTestDataset(t, 8)
	for _, kind := range []string{"listed", "namesake", "clean", "multipage"} {
		pa, err := a.peopleOf(kind, 50)
		if err != nil {
			t.Fatal(err)
		}
		pb, _ := b.peopleOf(kind, 50)
		pc, _ := c.peopleOf(kind, 50)
		if !reflect.DeepEqual(pa, pb) {
			t.Errorf("%s: same seed gave different people", kind)
		}
		if kind != "multipage" && reflect.DeepEqual(pa, pc) {
			t.Errorf("%s: different seeds gave the same people", kind)
		}
		// A shorter list is a prefix of a longer one.
		short, _ := a.peopleOf(kind, 5)
		if !reflect.DeepEqual(short, pa[:min(5, len(pa))]) {
			t.Errorf("%s: first 5 differ from the first 5 of 50", kind)
		}
	}
	if len(a.records) != len(b.records) {
		t.Fatalf("records: %d vs %d", len(a.records), len(b.records))
	}
	for i := range a.records {
		ra, rb := a.records[i], b.records[i]
		if ra.ID != rb.ID || ra.CaseCode != rb.CaseCode || ra.Person.ID != rb.Person.ID || ra.Duty != rb.Duty {
			t.Fatalf("record %d differs between two builds of seed 7", i)
		}
	}
}

func TestDatasetShape(t *testing.T) {
	d := newTestDataset(t, 1)
	if len(d.people) != 5000 {
		t.Fatalf("people = %d, want 5000", len(d.people))
	}
	regions := map[string]bool{}
	for _, c := range counties {
		regions[c.Code] = true
	}
	caseRe := regexp.MustCompile(`^\((\d{4})\)(\p{Han})(\d{2}|\d{4})执\d+号$`)
	from := time.Date(2014, 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)
	ids, siteIDs, counts := map[string]bool{}, map[string]bool{}, map[int]int{}
	for _, p := range d.people {
		if !validID(p.ID) {
			t.Fatalf("invalid ID %s", p.ID)
		}
		if !regions[p.ID[:6]] {
			t.Fatalf("ID %s: region not in the county table", p.ID)
		}
		if y := p.ID[6:10]; y < "1950" || y > "2000" {
			t.Fatalf("ID %s: birth year %s outside 1950-2000", p.ID, y)
		}
		if ids[p.ID] {
			t.Fatalf("ID %s listed twice", p.ID)
		}
		ids[p.ID] = true
		counts[min(len(p.Records), 11)]++
		for _, r := range p.Records {
			if siteIDs[r.ID] {
				t.Fatalf("site id %s twice", r.ID)
			}
			siteIDs[r.ID] = true
			m := caseRe.FindStringSubmatch(r.CaseCode)
			if m == nil {
				t.Fatalf("case code %q has not the site's shape", r.CaseCode)
			}
			if m[1] != r.Reg.Format("2006") || m[2] != r.Court.Province.Abbr {
				t.Fatalf("case code %q: year or province disagrees with %s, %s", r.CaseCode, r.Reg.Format("2006"), r.Court.Province.Name)
			}
			if !strings.HasSuffix(r.Court.Name, "人民法院") {
				t.Fatalf("court %q", r.Court.Name)
			}
			if r.Reg.Before(from) || r.Publish.After(to) || r.Publish.Before(r.Reg) {
				t.Fatalf("dates %s / %s outside 2014-2026", r.Reg, r.Publish)
			}
		}
	}
	if counts[1] < 2500 || counts[2] == 0 || counts[5] == 0 || counts[0] != 0 {
		t.Errorf("record counts per person: %v (want most 1, some up to 5, none 0)", counts)
	}
	if counts[11] < 2 {
		t.Errorf("people with more than 10 records: %d, want several", counts[11])
	}
	if !strings.Contains(d.records[0].Court.Name, "人民法院") || d.byID[d.records[0].ID] != d.records[0] {
		t.Error("byID does not index the records")
	}
}

func TestDatasetNamesakesAndContainedNames(t *testing.T) {
	d := newTestDataset(t, 1)
	groups, contained := 0, 0
	for name, ps := range d.byName {
		if len(ps) >= 2 {
			groups++
			masks := map[string]bool{}
			for _, p := range ps {
				if masks[maskID(p.ID)] {
					t.Errorf("two listed people named alike share the masked ID %s", maskID(p.ID))
				}
				masks[maskID(p.ID)] = true
			}
		}
		if len([]rune(name)) == 2 {
			for other := range d.byName {
				if other != name && strings.HasPrefix(other, name) {
					contained++
					break
				}
			}
		}
	}
	if groups < 50 {
		t.Errorf("namesake groups = %d, want at least 50", groups)
	}
	if contained < 25 {
		t.Errorf("names contained in other listed names = %d, want at least 25", contained)
	}
	multi, _ := d.peopleOf("multipage", 100)
	has23 := false
	for _, p := range multi {
		has23 = has23 || p.Records == 23
	}
	if len(multi) < 5 || !has23 {
		t.Errorf("multipage people %v: want at least 5, one with 23 records", multi)
	}
}

func TestPeopleKinds(t *testing.T) {
	d := newTestDataset(t, 1)

	listed, err := d.peopleOf("listed", 200)
	if err != nil || len(listed) != 200 {
		t.Fatalf("listed: %d, %v", len(listed), err)
	}
	for _, p := range listed {
		own := 0
		for _, r := range d.search(p.Name, "0") {
			if r.Person.ID == p.IDNumber {
				own++
			}
		}
		if !validID(p.IDNumber) || p.Records < 1 || own != p.Records {
			t.Errorf("listed %s: valid=%v records=%d found=%d", p.Name, validID(p.IDNumber), p.Records, own)
		}
	}

	multi, _ := d.peopleOf("multipage", 100)
	for _, p := range multi {
		if p.Records <= 10 || len(d.search(p.Name, "0")) <= 10 {
			t.Errorf("multipage %s has %d records", p.Name, p.Records)
		}
	}

	namesakes, _ := d.peopleOf("namesake", 300)
	if len(namesakes) != 300 {
		t.Fatalf("namesakes: %d", len(namesakes))
	}
	for _, p := range namesakes {
		if !validID(p.IDNumber) || p.Records != 0 {
			t.Errorf("namesake %s: valid=%v records=%d", p.Name, validID(p.IDNumber), p.Records)
		}
		same := 0
		for _, r := range d.search(p.Name, "0") {
			if r.Person.Name != p.Name {
				continue
			}
			same++
			if r.Person.ID == p.IDNumber || maskID(r.Person.ID) == maskID(p.IDNumber) {
				t.Errorf("namesake %s: ID agrees with a listed record", p.Name)
			}
		}
		if same == 0 {
			t.Errorf("namesake %s: no listed record of that name", p.Name)
		}
	}

	clean, _ := d.peopleOf("clean", 300)
	if len(clean) != 300 {
		t.Fatalf("clean: %d", len(clean))
	}
	for _, p := range clean {
		if !validID(p.IDNumber) || d.ids[p.IDNumber] || len(d.search(p.Name, "0")) != 0 {
			t.Errorf("clean %s: valid=%v listed=%v found=%d", p.Name, validID(p.IDNumber), d.ids[p.IDNumber], len(d.search(p.Name, "0")))
		}
	}

	if _, err := d.peopleOf("famous", 1); err == nil {
		t.Error("unknown kind: no error")
	}
	if _, err := d.peopleOf("listed", 0); err == nil {
		t.Error("n=0: no error")
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{People: 5},
		{People: 100, CaptchaTTL: -time.Second},
		{People: 100, CaptchaUses: -1},
		{People: 100, Latency: -time.Second},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v): no error", cfg)
		}
	}
}

func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		if _, err := New(DefaultConfig()); err != nil {
			b.Fatal(err)
		}
	}
}
