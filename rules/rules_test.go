package rules

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/shixincheck/shixincheck"
)

func TestDefaultMeasures(t *testing.T) {
	r := Default()
	if r.Version != "seed-2020-07-06" {
		t.Errorf("Version = %q", r.Version)
	}
	tests := []struct {
		item, listed, clear string
	}{
		{"公职人员招录（聘）及考核", "取消报名资格", "按正常政策程序办理"},
		{"向上推荐道德模范（楷模）、劳动模范及其他评优评先", "不予推荐", "按正常政策程序办理"},
		{"优秀政协委员评选", "不予推荐", "同等条件优先推荐"},
		{"政协委员候选人推荐", "不予推荐", "按正常政策程序办理"},
	}
	for _, tt := range tests {
		want := map[shixincheck.Outcome]string{
			shixincheck.OutcomeListed: tt.listed,
			shixincheck.OutcomeClear:  tt.clear,
			shixincheck.OutcomeReview: shixincheck.NeedsPerson,
			shixincheck.OutcomeFailed: shixincheck.NeedsPerson,
		}
		for o, w := range want {
			got, err := r.Measure(tt.item, o)
			if err != nil || got != w {
				t.Errorf("Measure(%q, %s) = %q, %v; want %q", tt.item, o, got, err, w)
			}
		}
	}
	wantNames := []string{
		"公职人员招录（聘）及考核",
		"向上推荐道德模范（楷模）、劳动模范及其他评优评先",
		"优秀政协委员评选",
		"政协委员候选人推荐",
	}
	if got := r.Names(); !reflect.DeepEqual(got, wantNames) {
		t.Errorf("Names() = %q", got)
	}
}

func TestDefaultItems(t *testing.T) {
	for _, it := range Default().Items {
		if it.Stage != "报名资格审查" || it.Frequency != "适时" {
			t.Errorf("%s: stage %q, frequency %q", it.Name, it.Stage, it.Frequency)
		}
		wantDept := "政工科、委员工委（按职责分工负责）"
		if it.Name == "公职人员招录（聘）及考核" {
			wantDept = "政工科"
		}
		if it.Departments != wantDept {
			t.Errorf("%s: departments %q, want %q", it.Name, it.Departments, wantDept)
		}
	}
}

func TestLookup(t *testing.T) {
	r := Default()
	tests := map[string]string{
		"公职人员招录资格审查":                "公职人员招录（聘）及考核", // the wording of Attachment 2
		"公职人员招聘":                    "公职人员招录（聘）及考核",
		" 公职人员招录(聘)及考核 ":            "公职人员招录（聘）及考核",
		"向上推荐道德模范 (楷模)、劳动模范及其他评优评先": "向上推荐道德模范（楷模）、劳动模范及其他评优评先", // as Attachment 2 prints it
		"评优评先":            "向上推荐道德模范（楷模）、劳动模范及其他评优评先",
		"道德模范推荐":          "向上推荐道德模范（楷模）、劳动模范及其他评优评先",
		"劳动模范推荐":          "向上推荐道德模范（楷模）、劳动模范及其他评优评先",
		"表扬优秀政协委员":        "优秀政协委员评选",
		"政协委员候选人推荐":       "政协委员候选人推荐",
		"政协委员候选人推荐\u3000": "政协委员候选人推荐",
	}
	for in, want := range tests {
		it, ok := r.Lookup(in)
		if !ok || it.Name != want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", in, it.Name, ok, want)
		}
	}
	if _, ok := r.Lookup("公务员考核"); ok {
		t.Error("Lookup found an item that is not listed")
	}
}

func TestMeasureErrors(t *testing.T) {
	r := Default()
	if _, err := r.Measure("公务员考核", shixincheck.OutcomeClear); !errors.Is(err, ErrUnknownItem) {
		t.Errorf("unknown item: error = %v", err)
	}
	if _, err := r.Measure("评优评先", shixincheck.Outcome("maybe")); err == nil {
		t.Error("unknown outcome: no error")
	}
	r.Items = append(r.Items, Item{Name: "无措施事项"})
	if _, err := r.Measure("无措施事项", shixincheck.OutcomeListed); err == nil {
		t.Error("item without a measure: no error")
	}
}

// A check that needs review or failed never gets an automatic measure, even
// when an item says what to write instead.
func TestUncheckedNeverAutomatic(t *testing.T) {
	r := &Rules{Items: []Item{{Name: "事项", Listed: "不予推荐", Clear: "同意", Unchecked: "暂缓办理"}}}
	for _, o := range []shixincheck.Outcome{shixincheck.OutcomeReview, shixincheck.OutcomeFailed} {
		got, err := r.Measure("事项", o)
		if err != nil || got != "暂缓办理" {
			t.Errorf("Measure(%s) = %q, %v; want the item's Unchecked", o, got, err)
		}
	}
	for _, it := range Default().Items {
		for _, o := range []shixincheck.Outcome{shixincheck.OutcomeReview, shixincheck.OutcomeFailed} {
			got, _ := Default().Measure(it.Name, o)
			if got == it.Listed || got == it.Clear {
				t.Errorf("%s, %s: automatic measure %q", it.Name, o, got)
			}
		}
	}
}

func TestDepartments(t *testing.T) {
	r := Default()
	if got := strings.Join(r.Departments(), ","); got != "政工科,委员工委" {
		t.Errorf("Departments() = %s", got)
	}
	if got := strings.Join(r.ItemsOf("政工科"), ","); got != strings.Join(r.Names(), ",") {
		t.Errorf("ItemsOf(政工科) = %s", got)
	}
	if got := r.ItemsOf("委员工委"); len(got) != 3 || got[0] != "向上推荐道德模范（楷模）、劳动模范及其他评优评先" {
		t.Errorf("ItemsOf(委员工委) = %q", got)
	}
	if got := r.ItemsOf("办公室"); got != nil {
		t.Errorf("ItemsOf(办公室) = %q", got)
	}
}

// TestUnknownItemMessages: the seed's Attachment 1 line that holds two of
// the items gets a message naming both; any other unknown text gets the list.
func TestUnknownItemMessages(t *testing.T) {
	r := Default()
	literal := "向上推荐道德模范（楷模）、劳动模范及其他评优评先，优秀政协委员评选"
	if _, ok := r.Lookup(literal); ok {
		t.Fatalf("Lookup found an item for the two items' line %q", literal)
	}
	want := "“向上推荐道德模范（楷模）、劳动模范及其他评优评先，优秀政协委员评选”包含2个应用事项，每行只能填写一个：" +
		"请改为“向上推荐道德模范（楷模）、劳动模范及其他评优评先”或“优秀政协委员评选”（同一人要核查其中几项的，每项填写一行）"
	if got := r.UnknownItem(literal); got != want {
		t.Errorf("UnknownItem(literal) = %q\nwant %q", got, want)
	}
	// Half-width brackets and a space, as typed by hand: the same answer.
	if got := r.UnknownItem("向上推荐道德模范(楷模)、劳动模范及其他评优评先, 优秀政协委员评选"); !strings.Contains(got, "请改为“向上推荐道德模范（楷模）、劳动模范及其他评优评先”或“优秀政协委员评选”") {
		t.Errorf("UnknownItem(half-width) = %q", got)
	}
	want = "未知的应用事项：买房（可选：公职人员招录（聘）及考核；向上推荐道德模范（楷模）、劳动模范及其他评优评先；优秀政协委员评选；政协委员候选人推荐）"
	if got := r.UnknownItem(" 买房 "); got != want {
		t.Errorf("UnknownItem(买房) = %q\nwant %q", got, want)
	}
	// One item's name inside other text names one item: the list.
	if got := r.UnknownItem("2026年优秀政协委员评选"); !strings.HasPrefix(got, "未知的应用事项：2026年优秀政协委员评选（可选：") {
		t.Errorf("UnknownItem(one item inside) = %q", got)
	}
}

func TestResolve(t *testing.T) {
	r := Default()
	if name, problem, ok := r.Resolve("公职人员招录"); !ok || name != "公职人员招录（聘）及考核" || problem != "" {
		t.Errorf("Resolve(alias) = %q, %q, %v", name, problem, ok)
	}
	if name, problem, ok := r.Resolve("买房"); ok || name != "" || problem != r.UnknownItem("买房") {
		t.Errorf("Resolve(unknown) = %q, %q, %v", name, problem, ok)
	}
}
