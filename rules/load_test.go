package rules

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/shixincheck/shixincheck"
)

// seedItems is Attachment 1 of the seed plan, with the measures of
// Attachment 2, written out by hand to guard default.yaml.
var seedItems = []Item{
	{
		Name:        "公职人员招录（聘）及考核",
		Aliases:     []string{"公职人员招录资格审查", "公职人员招录", "公职人员招聘"},
		Stage:       "报名资格审查",
		Frequency:   "适时",
		Departments: "政工科",
		Listed:      "取消报名资格",
		Clear:       "按正常政策程序办理",
		Unchecked:   shixincheck.NeedsPerson,
	},
	{
		Name:        "向上推荐道德模范（楷模）、劳动模范及其他评优评先",
		Aliases:     []string{"评优评先", "道德模范推荐", "劳动模范推荐"},
		Stage:       "报名资格审查",
		Frequency:   "适时",
		Departments: "政工科、委员工委（按职责分工负责）",
		Listed:      "不予推荐",
		Clear:       "按正常政策程序办理",
		Unchecked:   shixincheck.NeedsPerson,
	},
	{
		Name:        "优秀政协委员评选",
		Aliases:     []string{"表扬优秀政协委员"},
		Stage:       "报名资格审查",
		Frequency:   "适时",
		Departments: "政工科、委员工委（按职责分工负责）",
		Listed:      "不予推荐",
		Clear:       "同等条件优先推荐",
		Unchecked:   shixincheck.NeedsPerson,
	},
	{
		Name:        "政协委员候选人推荐",
		Stage:       "报名资格审查",
		Frequency:   "适时",
		Departments: "政工科、委员工委（按职责分工负责）",
		Listed:      "不予推荐",
		Clear:       "按正常政策程序办理",
		Unchecked:   shixincheck.NeedsPerson,
	},
}

func TestDefaultIsTheSeed(t *testing.T) {
	r, err := Parse(defaultYAML, "default.yaml")
	if err != nil {
		t.Fatalf("embedded default.yaml: %v", err)
	}
	sum := sha256.Sum256(defaultYAML)
	want := &Rules{Version: "seed-2020-07-06", Digest: hex.EncodeToString(sum[:6]), Items: seedItems}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("default.yaml parses to\n%+v\nwant\n%+v", r, want)
	}
	if !reflect.DeepEqual(Default(), want) {
		t.Errorf("Default() = %+v", Default())
	}
	// The shipped file on disk is the embedded one.
	fromDisk, err := Load("default.yaml")
	if err != nil || !reflect.DeepEqual(fromDisk, want) {
		t.Errorf("Load(default.yaml) = %+v, %v", fromDisk, err)
	}
	// Each call gives its own copy: a caller's change does not leak.
	Default().Items[0].Listed = "changed"
	if got := Default().Items[0].Listed; got != "取消报名资格" {
		t.Errorf("Default() shares state: Listed = %q", got)
	}
}

// goodYAML is a valid two-item rules file; the bad files below are edits of
// it, so their line numbers count from this text.
const goodYAML = `version: "2026-1"
items:
  - name: 公职人员招录（聘）及考核
    aliases: [公职人员招录资格审查]
    stage: 报名资格审查
    frequency: 适时
    departments: 政工科
    measures:
      listed: 取消报名资格
      clear: 按正常政策程序办理
  - name: 优秀政协委员评选
    aliases: [表扬优秀政协委员]
    stage: 报名资格审查
    frequency: 适时
    departments: 政工科、委员工委（按职责分工负责）
    measures:
      listed: 不予推荐
      clear: 同等条件优先推荐
`

// edit replaces the one occurrence of old in goodYAML.
func edit(t *testing.T, old, new string) string {
	t.Helper()
	if n := strings.Count(goodYAML, old); n != 1 {
		t.Fatalf("edit: %q occurs %d times in goodYAML", old, n)
	}
	return strings.Replace(goodYAML, old, new, 1)
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func measure(t *testing.T, r *Rules, item string, o shixincheck.Outcome) string {
	t.Helper()
	m, err := r.Measure(item, o)
	if err != nil {
		t.Fatalf("Measure(%q, %s): %v", item, o, err)
	}
	return m
}

func TestLoadGood(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		check func(t *testing.T, r *Rules)
	}{
		{
			name: "as written",
			file: goodYAML,
			check: func(t *testing.T, r *Rules) {
				if r.Version != "2026-1" || len(r.Items) != 2 || r.Calendar != nil || r.KnownYears != nil {
					t.Errorf("got %+v", r)
				}
				if got := measure(t, r, "公职人员招录资格审查", shixincheck.OutcomeListed); got != "取消报名资格" {
					t.Errorf("listed: %q", got)
				}
				if got := measure(t, r, "优秀政协委员评选", shixincheck.OutcomeFailed); got != shixincheck.NeedsPerson {
					t.Errorf("unchecked defaults to %q", got)
				}
			},
		},
		{
			name: "added item with its own unchecked measure",
			file: edit(t, `version: "2026-1"`, `version: 2026.10`) + `  - name: 政协委员候选人推荐
    stage: 报名资格审查
    frequency: 适时
    departments: 委员工委
    measures:
      listed: 不予推荐
      clear: 按正常政策程序办理
      unchecked: 暂缓推荐，人工核查后办理
`,
			check: func(t *testing.T, r *Rules) {
				if r.Version != "2026.10" {
					t.Errorf("Version = %q", r.Version)
				}
				want := []string{"公职人员招录（聘）及考核", "优秀政协委员评选", "政协委员候选人推荐"}
				if !reflect.DeepEqual(r.Names(), want) {
					t.Errorf("Names() = %q", r.Names())
				}
				it, _ := r.Lookup("政协委员候选人推荐")
				if it.Departments != "委员工委" || it.Aliases != nil {
					t.Errorf("added item = %+v", it)
				}
				for o, want := range map[shixincheck.Outcome]string{
					shixincheck.OutcomeListed: "不予推荐",
					shixincheck.OutcomeClear:  "按正常政策程序办理",
					shixincheck.OutcomeReview: "暂缓推荐，人工核查后办理",
					shixincheck.OutcomeFailed: "暂缓推荐，人工核查后办理",
				} {
					if got := measure(t, r, "政协委员候选人推荐", o); got != want {
						t.Errorf("%s: %q, want %q", o, got, want)
					}
				}
			},
		},
		{
			name: "changed measure",
			file: edit(t, "clear: 同等条件优先推荐", "clear: 按正常政策程序办理"),
			check: func(t *testing.T, r *Rules) {
				if got := measure(t, r, "表扬优秀政协委员", shixincheck.OutcomeClear); got != "按正常政策程序办理" {
					t.Errorf("clear: %q", got)
				}
			},
		},
		{
			name: "aliases, as a block list and folded like Lookup",
			file: edit(t, "    aliases: [表扬优秀政协委员]\n", "    aliases:\n      - 表扬优秀政协委员\n      - '优秀委员 评选 '\n      - 优秀委员(推荐)\n"),
			check: func(t *testing.T, r *Rules) {
				it, _ := r.Lookup("优秀政协委员评选")
				if want := []string{"表扬优秀政协委员", "优秀委员 评选", "优秀委员(推荐)"}; !reflect.DeepEqual(it.Aliases, want) {
					t.Errorf("Aliases = %q, want %q", it.Aliases, want)
				}
				for _, in := range []string{"优秀委员评选", "优秀委员（推荐）", "表扬优秀政协委员"} {
					if it, ok := r.Lookup(in); !ok || it.Name != "优秀政协委员评选" {
						t.Errorf("Lookup(%q) = %q, %v", in, it.Name, ok)
					}
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Load(writeFile(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, r)
		})
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "none.yaml")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	path := writeFile(t, edit(t, "      listed: 不予推荐\n", "      listed: ''\n"))
	_, err := Load(path)
	if want := path + `:17: item "优秀政协委员评选": measures.listed is empty`; err == nil || err.Error() != want {
		t.Errorf("Load: %v, want %s", err, want)
	}
}

func TestParseBad(t *testing.T) {
	tests := []struct {
		name, file, want string
	}{
		{"listed empty", edit(t, "      listed: 不予推荐\n", "      listed: \"\"\n"),
			`rules.yaml:17: item "优秀政协委员评选": measures.listed is empty`},
		{"listed null", edit(t, "      listed: 不予推荐\n", "      listed:\n"),
			`rules.yaml:17: item "优秀政协委员评选": measures.listed is empty`},
		{"listed missing", edit(t, "      listed: 不予推荐\n", ""),
			`rules.yaml:17: item "优秀政协委员评选": measures.listed is missing`},
		{"clear not a text", edit(t, "clear: 同等条件优先推荐", "clear: [同等条件, 优先推荐]"),
			`rules.yaml:18: item "优秀政协委员评选": measures.clear must be a single value, not a list or mapping`},
		{"unchecked empty", edit(t, "clear: 同等条件优先推荐\n", "clear: 同等条件优先推荐\n      unchecked: ''\n"),
			`rules.yaml:19: item "优秀政协委员评选": measures.unchecked is empty`},
		{"unchecked blank", edit(t, "clear: 同等条件优先推荐\n", "clear: 同等条件优先推荐\n      unchecked: '  '\n"),
			`rules.yaml:19: item "优秀政协委员评选": measures.unchecked is empty`},
		{"unchecked same as clear", edit(t, "clear: 同等条件优先推荐\n", "clear: 同等条件优先推荐\n      unchecked: 同等条件优先推荐\n"),
			`rules.yaml:19: item "优秀政协委员评选": measures.unchecked is the same as measures.clear: a check that could not be completed must not read as one that was`},
		{"unchecked same as listed", edit(t, "clear: 同等条件优先推荐\n", "clear: 同等条件优先推荐\n      unchecked: 不予推荐\n"),
			`rules.yaml:19: item "优秀政协委员评选": measures.unchecked is the same as measures.listed: a check that could not be completed must not read as one that was`},
		{"measures missing", edit(t, "    measures:\n      listed: 不予推荐\n      clear: 同等条件优先推荐\n", ""),
			`rules.yaml:11: item "优秀政协委员评选": measures is missing`},
		{"measures not a mapping", edit(t, "    measures:\n      listed: 不予推荐\n      clear: 同等条件优先推荐\n", "    measures: 不予推荐\n"),
			`rules.yaml:16: item "优秀政协委员评选": measures must be a mapping (key: value)`},
		{"unknown top-level key", edit(t, "items:\n", "notes: 备注\nitems:\n"),
			`rules.yaml:2: unknown key "notes"`},
		{"unknown item key", edit(t, "    measures:\n      listed: 取消报名资格", "    mesures:\n      listed: 取消报名资格"),
			`rules.yaml:8: item "公职人员招录（聘）及考核": unknown key "mesures"`},
		{"unknown measure key", edit(t, "clear: 按正常政策程序办理", "cleared: 按正常政策程序办理"),
			`rules.yaml:10: item "公职人员招录（聘）及考核": unknown key "measures.cleared"`},
		{"misspelt name", edit(t, "  - name: 优秀政协委员评选\n", "  - nmae: 优秀政协委员评选\n"),
			`rules.yaml:11: item 2: unknown key "nmae"`},
		{"repeated key", edit(t, "    frequency: 适时\n    departments: 政工科\n", "    frequency: 适时\n    frequency: 每年\n    departments: 政工科\n"),
			`rules.yaml:7: item "公职人员招录（聘）及考核": key "frequency" is repeated (first at line 6)`},
		{"name missing", edit(t, "  - name: 优秀政协委员评选\n    aliases", "  - aliases"),
			`rules.yaml:11: item 2: name is missing`},
		{"departments missing", edit(t, "    departments: 政工科\n", ""),
			`rules.yaml:3: item "公职人员招录（聘）及考核": departments is missing`},
		{"stage empty", edit(t, "    aliases: [表扬优秀政协委员]\n    stage: 报名资格审查\n", "    aliases: [表扬优秀政协委员]\n    stage:\n"),
			`rules.yaml:13: item "优秀政协委员评选": stage is empty`},
		{"item not a mapping", edit(t, "items:\n", "items:\n  - 政协委员候选人推荐\n"),
			`rules.yaml:3: item 1 must be a mapping (key: value)`},
		{"duplicate name", edit(t, "  - name: 优秀政协委员评选\n", "  - name: 公职人员招录（聘）及考核\n"),
			`rules.yaml:11: item "公职人员招录（聘）及考核": name "公职人员招录（聘）及考核" is already the name of item "公职人员招录（聘）及考核" (line 3)`},
		{"duplicate name after folding", edit(t, "  - name: 优秀政协委员评选\n", "  - name: 公职人员招录 (聘) 及考核\n"),
			`rules.yaml:11: item "公职人员招录 (聘) 及考核": name "公职人员招录 (聘) 及考核" is already the name of item "公职人员招录（聘）及考核" (line 3)`},
		{"name equal to an earlier alias", edit(t, "  - name: 优秀政协委员评选\n", "  - name: 公职人员招录资格审查\n"),
			`rules.yaml:11: item "公职人员招录资格审查": name "公职人员招录资格审查" is already an alias of item "公职人员招录（聘）及考核" (line 4)`},
		{"alias equal to another item's name", edit(t, "[表扬优秀政协委员]", "[表扬优秀政协委员, 公职人员招录(聘)及考核]"),
			`rules.yaml:12: item "优秀政协委员评选": alias "公职人员招录(聘)及考核" is already the name of item "公职人员招录（聘）及考核" (line 3)`},
		{"alias equal to another item's alias", edit(t, "[表扬优秀政协委员]", "[公职人员招录资格审查]"),
			`rules.yaml:12: item "优秀政协委员评选": alias "公职人员招录资格审查" is already an alias of item "公职人员招录（聘）及考核" (line 4)`},
		{"alias equal to its own name", edit(t, "[表扬优秀政协委员]", "[优秀政协委员评选]"),
			`rules.yaml:12: item "优秀政协委员评选": alias "优秀政协委员评选" repeats the name of this item (line 11)`},
		{"alias twice", edit(t, "[表扬优秀政协委员]", "[表扬优秀政协委员, 表扬优秀政协委员]"),
			`rules.yaml:12: item "优秀政协委员评选": alias "表扬优秀政协委员" repeats an alias of this item (line 12)`},
		{"alias empty", edit(t, "[表扬优秀政协委员]", "[表扬优秀政协委员, '']"),
			`rules.yaml:12: item "优秀政协委员评选": an alias is empty`},
		{"aliases not a list", edit(t, "[表扬优秀政协委员]", "表扬优秀政协委员"),
			`rules.yaml:12: item "优秀政协委员评选": aliases must be a list`},
		{"version missing", edit(t, "version: \"2026-1\"\n", ""),
			`rules.yaml:1: version is missing`},
		{"version empty", edit(t, `version: "2026-1"`, `version: ""`),
			`rules.yaml:1: version is empty`},
		{"items missing", "version: 1\n", `rules.yaml:1: items is missing`},
		{"items empty", "version: 1\nitems: []\n", `rules.yaml:2: items is empty`},
		{"items null", "version: 1\nitems:\n", `rules.yaml:2: items is empty`},
		{"items not a list", "version: 1\nitems: 评优评先\n", `rules.yaml:2: items must be a list`},
		{"empty file", "", `rules.yaml:1: the file is empty`},
		{"only comments", "# nothing yet\n", `rules.yaml:1: the file is empty`},
		{"not a mapping", "- 评优评先\n", `rules.yaml:1: the file must be a mapping (key: value)`},
		{"two documents", goodYAML + "---\nversion: 2\n", `rules.yaml:19: a second document (---): the file must hold one`},
		// Syntax errors carry yaml's own line, which for some errors is where
		// the enclosing block or list starts.
		{"syntax: missing colon", edit(t, "    frequency: 适时\n    departments: 政工科\n", "    frequency: 适时\n    departments 政工科\n"),
			`rules.yaml:7: could not find expected ':'`},
		{"syntax: tab indent", edit(t, "    departments: 政工科\n", "\tdepartments: 政工科\n"),
			`rules.yaml:6: found a tab character that violates indentation`},
		{"syntax: unclosed list", edit(t, "[表扬优秀政协委员]", "[表扬优秀政协委员"),
			`rules.yaml:11: did not find expected ',' or ']'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse([]byte(tt.file), "rules.yaml")
			if err == nil {
				t.Fatalf("accepted: %+v", r)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got: %s\nwant: %s", err, tt.want)
			}
		})
	}
}

const calendarYAML = goodYAML + `calendar:
  days:
    - {date: "2026-10-01", work: false, name: 国庆节}
    - date: 2026-10-10
      work: true
      name: 国庆节调休
  known_years: [2026, 2027]
`

func TestCalendar(t *testing.T) {
	r, err := Parse([]byte(calendarYAML), "rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []CalendarDay{
		{Date: "2026-10-01", Work: false, Name: "国庆节"},
		{Date: "2026-10-10", Work: true, Name: "国庆节调休"},
	}
	if !reflect.DeepEqual(r.Calendar, want) {
		t.Errorf("Calendar = %+v", r.Calendar)
	}
	if !reflect.DeepEqual(r.KnownYears, []int{2026, 2027}) {
		t.Errorf("KnownYears = %v", r.KnownYears)
	}
	// Each day names its line, for the daemon's message about it (a day in
	// a year the calendar does not know: daemon.calendar).
	if at := r.Where("2026-10-10"); at != "rules.yaml:22" {
		t.Errorf(`Where("2026-10-10") = %q, want rules.yaml:22`, at)
	}
	if at := r.Where("2026-10-11"); at != "" {
		t.Errorf(`Where of a day the file does not set = %q`, at)
	}
	// A day in a year lunar-go lacks is accepted once the year is declared.
	declared := goodYAML + "calendar:\n  days:\n    - {date: 2031-10-10, work: true}\n  known_years: [2031]\n"
	if r, err := Parse([]byte(declared), "rules.yaml"); err != nil || len(r.Calendar) != 1 {
		t.Errorf("a day of a declared year: %v", err)
	}
	// Both parts are optional, and a day needs no name.
	r, err = Parse([]byte(goodYAML+"calendar:\n  days:\n    - {date: 2027-02-07, work: true}\n"), "rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if want := []CalendarDay{{Date: "2027-02-07", Work: true}}; !reflect.DeepEqual(r.Calendar, want) || r.KnownYears != nil {
		t.Errorf("Calendar = %+v, KnownYears = %v", r.Calendar, r.KnownYears)
	}
}

func TestCalendarBad(t *testing.T) {
	// edit replaces the one occurrence of old in calendarYAML.
	edit := func(old, new string) string {
		t.Helper()
		if n := strings.Count(calendarYAML, old); n != 1 {
			t.Fatalf("edit: %q occurs %d times", old, n)
		}
		return strings.Replace(calendarYAML, old, new, 1)
	}
	tests := []struct {
		name, file, want string
	}{
		{"month without zero", edit(`date: "2026-10-01"`, `date: "2026-1-01"`),
			`rules.yaml:21: calendar: date "2026-1-01" is not a date like 2026-10-10`},
		{"no such day", edit(`date: "2026-10-01"`, `date: "2026-02-30"`),
			`rules.yaml:21: calendar: date "2026-02-30" is not a date like 2026-10-10`},
		{"date and time", edit(`date: "2026-10-01"`, `date: 2026-10-01T00:00:00Z`),
			`rules.yaml:21: calendar: date "2026-10-01T00:00:00Z" is not a date like 2026-10-10`},
		{"date missing", edit(`date: "2026-10-01", `, ``),
			`rules.yaml:21: calendar: date is missing`},
		{"duplicate date", edit(`date: 2026-10-10`, `date: 2026-10-01`),
			`rules.yaml:22: calendar: date 2026-10-01 is listed twice (first at line 21)`},
		{"work missing", edit(`work: false, `, ``),
			`rules.yaml:21: calendar: 2026-10-01: work is missing (true: a working day, false: a day off)`},
		{"work not a bool", edit(`work: true`, `work: 上班`),
			`rules.yaml:23: calendar: 2026-10-10: work must be true or false`},
		{"work yes", edit(`work: true`, `work: yes`),
			`rules.yaml:23: calendar: 2026-10-10: work must be true or false`},
		{"work quoted", edit(`work: true`, `work: "true"`),
			`rules.yaml:23: calendar: 2026-10-10: work must be true or false`},
		{"unknown day key", edit(`work: true`, `wrok: true`),
			`rules.yaml:23: calendar: 2026-10-10: unknown key "wrok"`},
		{"unknown calendar key", edit(`  known_years:`, `  known_year:`),
			`rules.yaml:25: unknown key "calendar.known_year"`},
		{"days not a list", edit("  days:\n    - {date: \"2026-10-01\", work: false, name: 国庆节}\n    - date: 2026-10-10\n      work: true\n      name: 国庆节调休\n", "  days: 2026-10-01\n"),
			`rules.yaml:20: calendar.days must be a list`},
		{"day not a mapping", edit(`    - {date: "2026-10-01", work: false, name: 国庆节}`, `    - 2026-10-01`),
			`rules.yaml:21: calendar: a day must be a mapping (key: value)`},
		{"known year not a number", edit(`[2026, 2027]`, `[2026, 二〇二七]`),
			`rules.yaml:25: calendar: known year "二〇二七" is not a year from 2000 to 2099`},
		{"known year typo", edit(`[2026, 2027]`, `[2026, 207]`),
			`rules.yaml:25: calendar: known year "207" is not a year from 2000 to 2099`},
		{"known year twice", edit(`[2026, 2027]`, `[2026, 2027, 2026]`),
			`rules.yaml:25: calendar: known year 2026 is listed twice`},
		{"known years not a list", edit(`[2026, 2027]`, `2027`),
			`rules.yaml:25: calendar.known_years must be a list`},
		{"calendar not a mapping", goodYAML + "calendar: [2026-10-10]\n",
			`rules.yaml:19: calendar must be a mapping (key: value)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse([]byte(tt.file), "rules.yaml")
			if err == nil {
				t.Fatalf("accepted: %+v", r)
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got: %s\nwant: %s", err, tt.want)
			}
		})
	}
}

// A check keeps the version the office wrote and the file's digest: two files
// that differ under one version are told apart.
func TestStampTellsFilesApart(t *testing.T) {
	data, err := os.ReadFile("default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a, err := Parse(data, "a.yaml")
	if err != nil {
		t.Fatal(err)
	}
	edited := bytes.Replace(data, []byte("取消报名资格"), []byte("取消考试资格"), 1)
	b, err := Parse(edited, "b.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^seed-2020-07-06@[0-9a-f]{12}$`).MatchString(a.Stamp()) {
		t.Errorf("Stamp = %q, want version@12 hex digits", a.Stamp())
	}
	if a.Version != b.Version || a.Stamp() == b.Stamp() {
		t.Errorf("an edit under one version: stamps %q and %q, want them different", a.Stamp(), b.Stamp())
	}
	if again, _ := Parse(data, "c.yaml"); again.Stamp() != a.Stamp() || Default().Stamp() != a.Stamp() {
		t.Errorf("the same file stamped %q and %q", again.Stamp(), a.Stamp())
	}
}
