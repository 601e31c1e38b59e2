package captcha

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/shixincheck/shixincheck"
)

// Limits on one answer's actions: generous for a person, small for Redis and
// for the tab that replays them.
const (
	maxActions      = 20     // actions in one answer
	maxDragPoints   = 2000   // points of one drag (10 s at 200 Hz)
	maxPoints       = 4000   // points of one answer
	maxActionMillis = 60_000 // an action's last point, ms after its first
	maxTypedRunes   = 64     // characters of one typed text
)

// validateActions checks a person's actions against the picture they were
// made on (width x height CSS px): known types, the points each type needs,
// every point on the picture, time that never goes back, sizes capped.
func validateActions(actions []shixincheck.Action, width, height float64) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidActions, fmt.Sprintf(format, args...))
	}
	if len(actions) == 0 {
		return bad("no action")
	}
	if len(actions) > maxActions {
		return bad("%d actions, at most %d", len(actions), maxActions)
	}
	total := 0
	for i, a := range actions {
		n := i + 1
		switch a.Type {
		case shixincheck.ActionClick:
			if len(a.Points) != 1 || a.Text != "" {
				return bad("action %d: a click has one point and no text", n)
			}
		case shixincheck.ActionDrag:
			if len(a.Points) < 2 || len(a.Points) > maxDragPoints || a.Text != "" {
				return bad("action %d: a drag has 2 to %d points and no text", n, maxDragPoints)
			}
		case shixincheck.ActionTypeText:
			if len(a.Points) != 0 || a.Text == "" || !utf8.ValidString(a.Text) || utf8.RuneCountInString(a.Text) > maxTypedRunes {
				return bad("action %d: typing has 1 to %d characters and no points", n, maxTypedRunes)
			}
			for _, r := range a.Text {
				if unicode.IsControl(r) {
					return bad("action %d: typing has a control character", n)
				}
			}
		default:
			return bad("action %d: unknown type %q (click, drag or type)", n, a.Type)
		}
		total += len(a.Points)
		if total > maxPoints {
			return bad("more than %d points", maxPoints)
		}
		for j, p := range a.Points {
			// Written so that NaN fails too.
			if !(p.X >= 0 && p.X <= width && p.Y >= 0 && p.Y <= height) {
				return bad("action %d point %d: (%g, %g) is off the %gx%g picture", n, j+1, p.X, p.Y, width, height)
			}
			if p.T < 0 || p.T > maxActionMillis {
				return bad("action %d point %d: t %d ms out of 0..%d", n, j+1, p.T, maxActionMillis)
			}
			if j > 0 && p.T < a.Points[j-1].T {
				return bad("action %d point %d: t goes back", n, j+1)
			}
		}
	}
	return nil
}
