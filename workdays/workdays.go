// Package workdays is China's official working-day calendar, used for the filing
// deadline "自信用信息核查之日起 7 个工作日内向市信用办反馈备案".
//
// A working day is Monday to Friday, minus the statutory holidays the State Council
// announces for each year, plus the make-up working days (调休) announced with them.
// The announced days come from github.com/6tail/lunar-go (HolidayUtil); the office
// may add or correct days, and declare a whole year it entered by hand.
//
// Counting rule (Civil Code art. 201): the day a period starts does not count. The
// check day is day 0; a filing is due by the end of the 7th working day after it.
// Days are Beijing dates (UTC+8).
//
// A year with no announced days is unknown: every question that touches it is
// refused with an error wrapping ErrUnknownYear, never answered with a guess.
package workdays

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/6tail/lunar-go/HolidayUtil"
)

// ErrUnknownYear is wrapped by every error about a year whose notice the calendar lacks.
var ErrUnknownYear = errors.New("workdays: year not in the calendar")

// beijing is China Standard Time; China has no daylight saving, so a fixed zone is exact.
var beijing = time.FixedZone("UTC+8", 8*60*60)

const dateLayout = "2006-01-02"

// The range of years searched in lunar-go's data (it starts at 2002).
const (
	libraryFirstYear = 1990
	libraryLastYear  = 2100
)

// newYearEve is the earliest December day a New Year holiday of the next year has
// reached (2001-12-29, 2007-12-29, 2018-12-29 in the notices): from that day on,
// a date also depends on the next year's notice.
const newYearEve = 29

// Override adds or corrects one day of the calendar, from the office's configuration.
type Override struct {
	Date string // Beijing date, YYYY-MM-DD, e.g. 2026-10-10
	Work bool   // true: a working day (a make-up day); false: a day off
	Name string // what the day is, for people reading the configuration
}

// Calendar answers working-day questions. It is read-only after New and safe for
// concurrent use.
type Calendar struct {
	days  map[string]bool // announced or overridden days by date: true works, false is off
	years map[int]bool    // years whose notice is known
}

// New builds the calendar from lunar-go's announced days, then applies the
// overrides. years declares years known that lunar-go lacks (the office entered
// that year's notice as overrides). An override must fall in a known year.
func New(overrides []Override, years []int) (*Calendar, error) {
	c := &Calendar{days: map[string]bool{}, years: map[int]bool{}}
	if err := c.loadLibrary(); err != nil {
		return nil, err
	}
	for _, y := range years {
		if y < 1000 || y > 9999 {
			return nil, fmt.Errorf("workdays: declared year %d is not a four-digit year", y)
		}
		c.years[y] = true
	}
	seen := map[string]bool{}
	for _, o := range overrides {
		d, err := time.ParseInLocation(dateLayout, o.Date, beijing)
		if err != nil {
			return nil, fmt.Errorf("workdays: override date %q is not YYYY-MM-DD", o.Date)
		}
		key := d.Format(dateLayout)
		if seen[key] {
			return nil, fmt.Errorf("workdays: override date %s is listed twice", key)
		}
		seen[key] = true
		if !c.years[d.Year()] {
			return nil, fmt.Errorf("workdays: override date %s: %w: %d (declare the year to enter its notice by hand)",
				key, ErrUnknownYear, d.Year())
		}
		c.days[key] = o.Work
	}
	return c, nil
}

// loadLibrary copies lunar-go's announced days. A year is known when some day
// belongs to its notice (the holiday's target date falls in it): 2001-12-29 is in
// the 2002 notice, and does not make 2001 known.
func (c *Calendar) loadLibrary() error {
	for y := libraryFirstYear; y <= libraryLastYear; y++ {
		for e := HolidayUtil.GetHolidaysByYear(y).Front(); e != nil; e = e.Next() {
			h := e.Value.(*HolidayUtil.Holiday)
			target, err := time.Parse(dateLayout, h.GetTarget())
			if err != nil {
				return fmt.Errorf("workdays: lunar-go holiday %q: bad target date: %w", h.String(), err)
			}
			if _, err := time.Parse(dateLayout, h.GetDay()); err != nil {
				return fmt.Errorf("workdays: lunar-go holiday %q: bad date: %w", h.String(), err)
			}
			c.days[h.GetDay()] = h.IsWork()
			c.years[target.Year()] = true
		}
	}
	return nil
}

// KnownYears returns the years whose notice the calendar knows, in order.
func (c *Calendar) KnownYears() []int {
	years := make([]int, 0, len(c.years))
	for y := range c.years {
		years = append(years, y)
	}
	slices.Sort(years)
	return years
}

// IsWorkday tells whether day's Beijing date is a working day.
func (c *Calendar) IsWorkday(day time.Time) (bool, error) {
	return c.isWorkday(beijingDate(day))
}

// AddWorkdays returns the Beijing date n working days after from's Beijing date
// (from is day 0 and does not count), as midnight at the start of that date in
// UTC+8. A deadline counted this way ends at the end of the returned date.
// A negative n counts backwards; n == 0 returns from's date.
func (c *Calendar) AddWorkdays(from time.Time, n int) (time.Time, error) {
	d := beijingDate(from)
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	for n > 0 {
		d = d.AddDate(0, 0, step)
		work, err := c.isWorkday(d)
		if err != nil {
			return time.Time{}, err
		}
		if work {
			n--
		}
	}
	return d, nil
}

// WorkdaysBetween counts the working days after from's Beijing date up to and
// including to's. When to's date is before from's, it returns minus the count the
// other way round, so WorkdaysBetween(now, due) is negative once due has passed.
func (c *Calendar) WorkdaysBetween(from, to time.Time) (int, error) {
	a, b := beijingDate(from), beijingDate(to)
	sign := 1
	if b.Before(a) {
		a, b, sign = b, a, -1
	}
	count := 0
	for d := a.AddDate(0, 0, 1); !d.After(b); d = d.AddDate(0, 0, 1) {
		work, err := c.isWorkday(d)
		if err != nil {
			return 0, err
		}
		if work {
			count++
		}
	}
	return sign * count, nil
}

// isWorkday answers for a date at Beijing midnight.
func (c *Calendar) isWorkday(d time.Time) (bool, error) {
	if !c.years[d.Year()] {
		return false, fmt.Errorf("%w: %d (needed for %s)", ErrUnknownYear, d.Year(), d.Format(dateLayout))
	}
	if d.Month() == time.December && d.Day() >= newYearEve && !c.years[d.Year()+1] {
		return false, fmt.Errorf("%w: %d (its New Year holiday may start on %s)", ErrUnknownYear, d.Year()+1, d.Format(dateLayout))
	}
	if work, ok := c.days[d.Format(dateLayout)]; ok {
		return work, nil
	}
	wd := d.Weekday()
	return wd != time.Saturday && wd != time.Sunday, nil
}

// beijingDate returns midnight at the start of t's date in Beijing.
func beijingDate(t time.Time) time.Time {
	y, m, d := t.In(beijing).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, beijing)
}
