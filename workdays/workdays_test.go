package workdays

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

var cst = time.FixedZone("CST", 8*60*60)

// bj is a Beijing wall-clock time.
func bj(date string, hour, min int) time.Time {
	d, err := time.ParseInLocation("2006-01-02", date, cst)
	if err != nil {
		panic(err)
	}
	return d.Add(time.Duration(hour)*time.Hour + time.Duration(min)*time.Minute)
}

func newCalendar(t *testing.T, overrides []Override, years []int) *Calendar {
	t.Helper()
	c, err := New(overrides, years)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// notices are the State Council's announced days for 2025 and 2026, copied from
// the official notices (国务院办公厅关于2025年/2026年部分节假日安排的通知).
// weekday is given for make-up days, as the notices name it.
var notices = []struct {
	from, to string
	work     bool
	weekday  time.Weekday
}{
	// 2025
	{from: "2025-01-01", to: "2025-01-01"},                                     // 元旦
	{from: "2025-01-26", to: "2025-01-26", work: true, weekday: time.Sunday},   // 春节 make-up
	{from: "2025-01-28", to: "2025-02-04"},                                     // 春节
	{from: "2025-02-08", to: "2025-02-08", work: true, weekday: time.Saturday}, // 春节 make-up
	{from: "2025-04-04", to: "2025-04-06"},                                     // 清明
	{from: "2025-04-27", to: "2025-04-27", work: true, weekday: time.Sunday},   // 劳动节 make-up
	{from: "2025-05-01", to: "2025-05-05"},                                     // 劳动节
	{from: "2025-05-31", to: "2025-06-02"},                                     // 端午
	{from: "2025-09-28", to: "2025-09-28", work: true, weekday: time.Sunday},   // 国庆+中秋 make-up
	{from: "2025-10-01", to: "2025-10-08"},                                     // 国庆+中秋
	{from: "2025-10-11", to: "2025-10-11", work: true, weekday: time.Saturday}, // 国庆+中秋 make-up
	// 2026
	{from: "2026-01-01", to: "2026-01-03"},                                     // 元旦
	{from: "2026-01-04", to: "2026-01-04", work: true, weekday: time.Sunday},   // 元旦 make-up
	{from: "2026-02-14", to: "2026-02-14", work: true, weekday: time.Saturday}, // 春节 make-up
	{from: "2026-02-15", to: "2026-02-23"},                                     // 春节
	{from: "2026-02-28", to: "2026-02-28", work: true, weekday: time.Saturday}, // 春节 make-up
	{from: "2026-04-04", to: "2026-04-06"},                                     // 清明
	{from: "2026-05-01", to: "2026-05-05"},                                     // 劳动节
	{from: "2026-05-09", to: "2026-05-09", work: true, weekday: time.Saturday}, // 劳动节 make-up
	{from: "2026-06-19", to: "2026-06-21"},                                     // 端午
	{from: "2026-09-20", to: "2026-09-20", work: true, weekday: time.Sunday},   // make-up (国庆)
	{from: "2026-09-25", to: "2026-09-27"},                                     // 中秋
	{from: "2026-10-01", to: "2026-10-07"},                                     // 国庆
	{from: "2026-10-10", to: "2026-10-10", work: true, weekday: time.Saturday}, // 国庆 make-up
}

// TestLibraryMatchesNotices checks every day of 2025 and 2026 against the notices:
// the calendar's data source must agree with the State Council, day by day.
func TestLibraryMatchesNotices(t *testing.T) {
	want := map[string]bool{}
	for _, n := range notices {
		for d := bj(n.from, 0, 0); !d.After(bj(n.to, 0, 0)); d = d.AddDate(0, 0, 1) {
			if n.work && d.Weekday() != n.weekday {
				t.Fatalf("notice table: %s is a %s, not a %s", n.from, d.Weekday(), n.weekday)
			}
			want[d.Format("2006-01-02")] = n.work
		}
	}
	c := newCalendar(t, nil, nil)
	for d := bj("2025-01-01", 0, 0); d.Year() <= 2026; d = d.AddDate(0, 0, 1) {
		key := d.Format("2006-01-02")
		expected, announced := want[key]
		if !announced {
			expected = d.Weekday() != time.Saturday && d.Weekday() != time.Sunday
		}
		got, err := c.IsWorkday(d)
		if err != nil {
			t.Fatalf("IsWorkday(%s): %v", key, err)
		}
		if got != expected {
			t.Errorf("IsWorkday(%s %s) = %v, the notice says %v", key, d.Weekday(), got, expected)
		}
	}
}

func TestIsWorkday(t *testing.T) {
	c := newCalendar(t, nil, nil)
	tests := []struct {
		name string
		day  time.Time
		want bool
	}{
		{"ordinary Tuesday", bj("2026-03-10", 10, 0), true},
		{"ordinary Saturday", bj("2026-03-14", 10, 0), false},
		{"Spring Festival weekday off", bj("2026-02-16", 10, 0), false},
		{"make-up Saturday", bj("2026-02-14", 10, 0), true},
		{"make-up Sunday 2025", bj("2025-01-26", 10, 0), true},
		{"National Day Wednesday 2025", bj("2025-10-08", 10, 0), false},
		// 16:30 UTC on Fri 13 Feb is 00:30 on Sat 14 Feb in Beijing, a make-up day.
		{"UTC Friday night is Beijing make-up Saturday", time.Date(2026, 2, 13, 16, 30, 0, 0, time.UTC), true},
		// 16:30 UTC on Sat 14 Feb is 00:30 on Sun 15 Feb in Beijing, a holiday.
		{"UTC Saturday night is Beijing holiday Sunday", time.Date(2026, 2, 14, 16, 30, 0, 0, time.UTC), false},
		// 15:59 UTC on Sun 15 Feb is still Sun 15 Feb (23:59) in Beijing.
		{"UTC afternoon is still the same Beijing day", time.Date(2026, 2, 15, 15, 59, 0, 0, time.UTC), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.IsWorkday(tt.day)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("IsWorkday(%s) = %v, want %v", tt.day, got, tt.want)
			}
		})
	}
}

func TestAddWorkdays(t *testing.T) {
	c := newCalendar(t, nil, nil)
	tests := []struct {
		name string
		from time.Time
		n    int
		want string // Beijing midnight of the due date
	}{
		{"ordinary week", bj("2026-03-09", 15, 0), 7,
			// Mon 9 Mar: 10,11,12,13, 16,17,18 → Wed 18 Mar
			"2026-03-18T00:00:00+08:00"},
		{"2026 Spring Festival, checked Fri 13 Feb", bj("2026-02-13", 15, 0), 7,
			// 1=Sat 14 (make-up), [15-23 off], 2=24, 3=25, 4=26, 5=27, 6=Sat 28 (make-up), 7=Mon 2 Mar
			"2026-03-02T00:00:00+08:00"},
		{"2026 Spring Festival, checked on the holiday Mon 16 Feb", bj("2026-02-16", 9, 0), 7,
			// 1=24, 2=25, 3=26, 4=27, 5=Sat 28 (make-up), 6=Mon 2 Mar, 7=Tue 3 Mar
			"2026-03-03T00:00:00+08:00"},
		{"2026 Spring Festival, checked on the make-up Sat 14 Feb", bj("2026-02-14", 9, 0), 7,
			// 1=24, 2=25, 3=26, 4=27, 5=Sat 28 (make-up), 6=Mon 2 Mar, 7=Tue 3 Mar
			"2026-03-03T00:00:00+08:00"},
		{"UTC Friday night is already the make-up Saturday in Beijing", time.Date(2026, 2, 13, 16, 30, 0, 0, time.UTC), 7,
			// Beijing Sat 14 Feb 00:30 is day 0: 1=24, 2=25, 3=26, 4=27, 5=Sat 28, 6=Mon 2 Mar, 7=Tue 3 Mar
			"2026-03-03T00:00:00+08:00"},
		{"UTC Friday afternoon is still Friday in Beijing", time.Date(2026, 2, 13, 15, 59, 0, 0, time.UTC), 7,
			// Beijing Fri 13 Feb 23:59 is day 0: 1=Sat 14, 2=24, 3=25, 4=26, 5=27, 6=Sat 28, 7=Mon 2 Mar
			"2026-03-02T00:00:00+08:00"},
		{"2026 Mid-Autumn, checked Fri 18 Sep", bj("2026-09-18", 11, 0), 7,
			// 1=Sun 20 (make-up), 2=21, 3=22, 4=23, 5=24, [25-27 off], 6=Mon 28, 7=Tue 29
			"2026-09-29T00:00:00+08:00"},
		{"2026 National Day, checked Thu 24 Sep", bj("2026-09-24", 11, 0), 7,
			// [25-27 off], 1=28, 2=29, 3=30, [1-7 Oct off], 4=Thu 8, 5=Fri 9, 6=Sat 10 (make-up), 7=Mon 12 Oct
			"2026-10-12T00:00:00+08:00"},
		{"2026 National Day, checked Wed 30 Sep", bj("2026-09-30", 11, 0), 7,
			// [1-7 Oct off], 1=Thu 8, 2=Fri 9, 3=Sat 10 (make-up), 4=12, 5=13, 6=14, 7=Thu 15 Oct
			"2026-10-15T00:00:00+08:00"},
		{"2025 Spring Festival, checked Fri 24 Jan", bj("2025-01-24", 11, 0), 7,
			// 1=Sun 26 (make-up), 2=Mon 27, [28 Jan-4 Feb off], 3=Wed 5, 4=6, 5=7, 6=Sat 8 (make-up), 7=Mon 10 Feb
			"2025-02-10T00:00:00+08:00"},
		{"2025 Spring Festival, checked on the make-up Sun 26 Jan", bj("2025-01-26", 11, 0), 7,
			// 1=Mon 27, [28 Jan-4 Feb off], 2=Wed 5, 3=6, 4=7, 5=Sat 8 (make-up), 6=Mon 10, 7=Tue 11 Feb
			"2025-02-11T00:00:00+08:00"},
		{"2025 National Day, due on a make-up Saturday", bj("2025-09-25", 11, 0), 7,
			// 1=Fri 26, 2=Sun 28 (make-up), 3=29, 4=30, [1-8 Oct off], 5=Thu 9, 6=Fri 10, 7=Sat 11 Oct (make-up)
			"2025-10-11T00:00:00+08:00"},
		{"2025 National Day, checked on the holiday Fri 3 Oct", bj("2025-10-03", 11, 0), 7,
			// [4-8 off], 1=Thu 9, 2=Fri 10, 3=Sat 11 (make-up), 4=13, 5=14, 6=15, 7=Thu 16 Oct
			"2025-10-16T00:00:00+08:00"},
		{"across the new year 2025 to 2026", bj("2025-12-24", 11, 0), 7,
			// 1=Thu 25, 2=Fri 26, 3=Mon 29, 4=Tue 30, 5=Wed 31, [1-3 Jan off], 6=Sun 4 Jan (make-up), 7=Mon 5 Jan
			"2026-01-05T00:00:00+08:00"},
		{"zero is the check day itself, even a holiday", bj("2026-02-16", 11, 0), 0,
			// day 0 = Mon 16 Feb
			"2026-02-16T00:00:00+08:00"},
		{"negative counts backwards", bj("2026-02-24", 11, 0), -2,
			// [23-15 off], -1=Sat 14 (make-up), -2=Fri 13
			"2026-02-13T00:00:00+08:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.AddWorkdays(tt.from, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if got.Format(time.RFC3339) != tt.want {
				t.Errorf("AddWorkdays(%s, %d) = %s, want %s", tt.from, tt.n, got.Format(time.RFC3339), tt.want)
			}
		})
	}
}

func TestWorkdaysBetween(t *testing.T) {
	c := newCalendar(t, nil, nil)
	tests := []struct {
		name     string
		from, to time.Time
		want     int
	}{
		{"check day to due date", bj("2026-02-13", 10, 0), bj("2026-03-02", 0, 0),
			// 14 (make-up), 24, 25, 26, 27, 28 (make-up), 2 Mar
			7},
		{"same day", bj("2026-02-13", 9, 0), bj("2026-02-13", 18, 0), 0},
		{"due in the next 2 working days", bj("2026-02-13", 18, 0), bj("2026-02-24", 0, 0),
			// Sat 14 (make-up), [15-23 off], Tue 24
			2},
		{"a Saturday after a Friday due date is no working day of delay", bj("2026-03-20", 0, 0), bj("2026-03-21", 12, 0),
			// Sat 21 Mar is off
			0},
		{"overdue age across a make-up Saturday", bj("2026-02-27", 0, 0), bj("2026-03-02", 9, 0),
			// Sat 28 (make-up), Mon 2 Mar
			2},
		{"due date already passed is negative", bj("2026-03-02", 9, 0), bj("2026-02-27", 0, 0),
			// -(Sat 28, Mon 2 Mar)
			-2},
		{"Beijing dates, not UTC dates", time.Date(2026, 2, 13, 16, 30, 0, 0, time.UTC), bj("2026-02-24", 0, 0),
			// from is Beijing Sat 14 Feb (day 0): [15-23 off], Tue 24
			1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.WorkdaysBetween(tt.from, tt.to)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("WorkdaysBetween(%s, %s) = %d, want %d", tt.from, tt.to, got, tt.want)
			}
		})
	}
}

func TestOverrides(t *testing.T) {
	tests := []struct {
		name      string
		overrides []Override
		years     []int
		from      time.Time
		want      string
	}{
		{"added holiday", []Override{{Date: "2026-03-10", Work: false, Name: "本地假日"}}, nil, bj("2026-03-09", 10, 0),
			// Mon 9 Mar: [10 off], 1=11, 2=12, 3=13, 4=16, 5=17, 6=18, 7=Thu 19
			"2026-03-19T00:00:00+08:00"},
		{"added make-up day", []Override{{Date: "2026-03-14", Work: true, Name: "补班"}}, nil, bj("2026-03-09", 10, 0),
			// Mon 9 Mar: 1=10, 2=11, 3=12, 4=13, 5=Sat 14 (make-up), 6=16, 7=Tue 17
			"2026-03-17T00:00:00+08:00"},
		{"library make-up day corrected to off", []Override{{Date: "2026-02-28", Work: false}}, nil, bj("2026-02-13", 10, 0),
			// 1=Sat 14, [15-23 off], 2=24, 3=25, 4=26, 5=27, [28 now off], 6=Mon 2 Mar, 7=Tue 3 Mar
			"2026-03-03T00:00:00+08:00"},
		{"library holiday corrected to work", []Override{{Date: "2026-02-23", Work: true}}, nil, bj("2026-02-13", 10, 0),
			// 1=Sat 14, [15-22 off], 2=Mon 23 (now work), 3=24, 4=25, 5=26, 6=27, 7=Sat 28 (make-up)
			"2026-02-28T00:00:00+08:00"},
		{"year declared by hand with its own holiday", []Override{{Date: "2028-01-03", Work: false, Name: "made up for the test"}}, []int{2028},
			bj("2027-12-23", 10, 0),
			// Thu 23 Dec 2027: 1=24, 2=27, 3=28, 4=29, 5=30, 6=Fri 31, [1-2 weekend, 3 Jan off], 7=Tue 4 Jan 2028
			"2028-01-04T00:00:00+08:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCalendar(t, tt.overrides, tt.years)
			got, err := c.AddWorkdays(tt.from, 7)
			if err != nil {
				t.Fatal(err)
			}
			if got.Format(time.RFC3339) != tt.want {
				t.Errorf("AddWorkdays(%s, 7) = %s, want %s", tt.from, got.Format(time.RFC3339), tt.want)
			}
		})
	}
}

func TestUnknownYearRefused(t *testing.T) {
	c := newCalendar(t, nil, nil)
	tests := []struct {
		name     string
		call     func() error
		wantYear string
	}{
		{"IsWorkday in 2031", func() error {
			_, err := c.IsWorkday(bj("2031-03-03", 10, 0))
			return err
		}, "2031"},
		{"IsWorkday before the library's data", func() error {
			_, err := c.IsWorkday(bj("2001-06-01", 10, 0))
			return err
		}, "2001"},
		{"AddWorkdays in 2031", func() error {
			_, err := c.AddWorkdays(bj("2031-03-03", 10, 0), 7)
			return err
		}, "2031"},
		{"AddWorkdays crossing from 2027 into 2028", func() error {
			// Thu 23 Dec 2027: 24, 27, 28, then 29 Dec may belong to 2028's New Year holiday.
			_, err := c.AddWorkdays(bj("2027-12-23", 10, 0), 7)
			return err
		}, "2028"},
		{"AddWorkdays landing in late December before next year's notice", func() error {
			// Mon 20 Dec 2027: 21, 22, 23, 24, 27, 28, then 29 Dec
			_, err := c.AddWorkdays(bj("2027-12-20", 10, 0), 7)
			return err
		}, "2028"},
		{"WorkdaysBetween crossing into 2028", func() error {
			_, err := c.WorkdaysBetween(bj("2027-12-20", 10, 0), bj("2028-01-10", 10, 0))
			return err
		}, "2028"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, ErrUnknownYear) {
				t.Fatalf("err = %v, want ErrUnknownYear", err)
			}
			if !strings.Contains(err.Error(), "calendar: "+tt.wantYear) {
				t.Errorf("err = %q, does not name year %s", err, tt.wantYear)
			}
		})
	}

	// Just before the late-December days, the last known year still answers.
	got, err := c.AddWorkdays(bj("2027-12-13", 10, 0), 7)
	if err != nil {
		t.Fatal(err)
	}
	// Mon 13 Dec 2027: 14, 15, 16, 17, 20, 21, 22 → Wed 22 Dec
	if want := "2027-12-22T00:00:00+08:00"; got.Format(time.RFC3339) != want {
		t.Errorf("AddWorkdays(2027-12-13, 7) = %s, want %s", got.Format(time.RFC3339), want)
	}
}

func TestKnownYears(t *testing.T) {
	var lib []int
	for y := 2002; y <= 2027; y++ {
		lib = append(lib, y)
	}
	if got := newCalendar(t, nil, nil).KnownYears(); !slices.Equal(got, lib) {
		t.Errorf("KnownYears() = %v, want %v (lunar-go v1.4.7)", got, lib)
	}
	want := append(slices.Clone(lib), 2028, 2030)
	if got := newCalendar(t, nil, []int{2030, 2028, 2026}).KnownYears(); !slices.Equal(got, want) {
		t.Errorf("KnownYears() with declared years = %v, want %v", got, want)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name      string
		overrides []Override
		years     []int
		want      string
	}{
		{"month out of range", []Override{{Date: "2026-13-01"}}, nil,
			`workdays: override date "2026-13-01" is not YYYY-MM-DD`},
		{"slashes", []Override{{Date: "2026/10/10"}}, nil,
			`workdays: override date "2026/10/10" is not YYYY-MM-DD`},
		{"no such day", []Override{{Date: "2026-02-29"}}, nil,
			`workdays: override date "2026-02-29" is not YYYY-MM-DD`},
		{"empty", []Override{{Date: ""}}, nil,
			`workdays: override date "" is not YYYY-MM-DD`},
		{"listed twice", []Override{{Date: "2026-03-10"}, {Date: "2026-03-10", Work: true}}, nil,
			`workdays: override date 2026-03-10 is listed twice`},
		{"year not declared", []Override{{Date: "2031-01-01"}}, nil,
			`workdays: override date 2031-01-01: workdays: year not in the calendar: 2031 (declare the year to enter its notice by hand)`},
		{"declared year not four digits", nil, []int{26},
			`workdays: declared year 26 is not a four-digit year`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.overrides, tt.years)
			if err == nil {
				t.Fatal("New accepted a bad configuration")
			}
			if err.Error() != tt.want {
				t.Errorf("err = %q\nwant  %q", err, tt.want)
			}
		})
	}
}
