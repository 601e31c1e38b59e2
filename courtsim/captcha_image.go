package courtsim

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// Captcha image size, as on the site.
const (
	captchaWidth  = 160
	captchaHeight = 70
)

// glyphCell is the side of the square mask one character is drawn in
// before it is distorted onto the image.
const glyphCell = 60

// captchaPainter draws captcha images. The parsed font is shared; a face is
// made per image because faces are not safe for concurrent use.
type captchaPainter struct {
	font *sfnt.Font
}

func newCaptchaPainter() (*captchaPainter, error) {
	f, err := opentype.Parse(gobold.TTF)
	if err != nil {
		return nil, fmt.Errorf("captcha font: %w", err)
	}
	return &captchaPainter{font: f}, nil
}

// paint draws code as a PNG: each character rotated, sheared, scaled and
// offset differently in its own colour, over a light background with noise
// lines and dots. A person reads it easily; a plain OCR less so.
func (c *captchaPainter) paint(code string) ([]byte, error) {
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	face, err := opentype.NewFace(c.font, &opentype.FaceOptions{Size: 46, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		return nil, fmt.Errorf("captcha face: %w", err)
	}
	defer face.Close()

	img := image.NewRGBA(image.Rect(0, 0, captchaWidth, captchaHeight))
	// Light background with a soft horizontal gradient.
	r0, g0, b0 := 215+rng.IntN(35), 215+rng.IntN(35), 215+rng.IntN(35)
	for y := 0; y < captchaHeight; y++ {
		for x := 0; x < captchaWidth; x++ {
			t := float64(x) / captchaWidth * 20
			img.SetRGBA(x, y, color.RGBA{clamp8(float64(r0) + t), clamp8(float64(g0) - t/2), clamp8(float64(b0)), 255})
		}
	}
	for range 2 {
		noiseCurve(img, rng, randomColor(rng, 100, 200), 1)
	}

	step := float64(captchaWidth-20) / float64(len(code))
	for i, ch := range code {
		mask, inkWidth := glyphMask(face, ch)
		cx := 10 + step*(float64(i)+0.5) + float64(rng.IntN(7)-3)
		cy := captchaHeight/2 + float64(rng.IntN(9)-4)
		angle := (rng.Float64()*50 - 25) * math.Pi / 180
		shear := rng.Float64()*0.5 - 0.25
		sx, sy := 0.85+rng.Float64()*0.25, 0.85+rng.Float64()*0.25
		// Narrow wide letters (W, M) so neighbours do not run together.
		if maxWidth := step - 4; float64(inkWidth)*sx > maxWidth {
			sx = maxWidth / float64(inkWidth)
		}
		drawDistorted(img, mask, cx, cy, angle, shear, sx, sy, randomColor(rng, 0, 130))
	}

	for range 2 {
		noiseCurve(img, rng, randomColor(rng, 40, 160), 1+rng.IntN(2))
	}
	for range 220 {
		img.SetRGBA(rng.IntN(captchaWidth), rng.IntN(captchaHeight), randomColor(rng, 0, 255))
	}

	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("captcha png: %w", err)
	}
	return buf.Bytes(), nil
}

// glyphMask draws one character centred in a glyphCell square and returns
// the width of its ink.
func glyphMask(face font.Face, ch rune) (*image.Alpha, int) {
	mask := image.NewAlpha(image.Rect(0, 0, glyphCell, glyphCell))
	bounds, _, _ := face.GlyphBounds(ch)
	w := (bounds.Max.X - bounds.Min.X).Round()
	h := (bounds.Max.Y - bounds.Min.Y).Round()
	// Place the glyph's ink box in the middle of the cell.
	dotX := (glyphCell-w)/2 - bounds.Min.X.Round()
	dotY := (glyphCell-h)/2 - bounds.Min.Y.Round()
	d := font.Drawer{Dst: mask, Src: image.Opaque, Face: face, Dot: fixed.P(dotX, dotY)}
	d.DrawString(string(ch))
	return mask, w
}

// drawDistorted paints mask centred at (cx, cy) after scaling, shearing and
// rotating it, sampling the mask bilinearly through the inverse transform.
func drawDistorted(img *image.RGBA, mask *image.Alpha, cx, cy, angle, shear, sx, sy float64, col color.RGBA) {
	// Forward transform M = R(angle) * Shear(shear) * Scale(sx, sy).
	cos, sin := math.Cos(angle), math.Sin(angle)
	a, b := cos*sx, (cos*shear-sin)*sy
	c, d := sin*sx, (sin*shear+cos)*sy
	det := a*d - b*c
	ia, ib, ic, id := d/det, -b/det, -c/det, a/det
	half := float64(glyphCell) / 2
	// The cell's diagonal, grown by the larger scale, bounds the drawn glyph.
	reach := int(half * 1.5 * math.Max(1, math.Max(sx, sy)))
	bounds := img.Bounds()
	for y := int(cy) - reach; y <= int(cy)+reach; y++ {
		for x := int(cx) - reach; x <= int(cx)+reach; x++ {
			if !(image.Point{X: x, Y: y}).In(bounds) {
				continue
			}
			dx, dy := float64(x)-cx, float64(y)-cy
			u, v := ia*dx+ib*dy+half, ic*dx+id*dy+half
			alpha := sampleAlpha(mask, u, v)
			if alpha == 0 {
				continue
			}
			bg := img.RGBAAt(x, y)
			img.SetRGBA(x, y, color.RGBA{
				R: blend(bg.R, col.R, alpha), G: blend(bg.G, col.G, alpha), B: blend(bg.B, col.B, alpha), A: 255,
			})
		}
	}
}

// sampleAlpha reads mask at a fractional point, 0..1, bilinearly.
func sampleAlpha(mask *image.Alpha, u, v float64) float64 {
	u, v = u-0.5, v-0.5
	x0, y0 := int(math.Floor(u)), int(math.Floor(v))
	fx, fy := u-float64(x0), v-float64(y0)
	at := func(x, y int) float64 {
		if x < 0 || y < 0 || x >= glyphCell || y >= glyphCell {
			return 0
		}
		return float64(mask.AlphaAt(x, y).A) / 255
	}
	top := at(x0, y0)*(1-fx) + at(x0+1, y0)*fx
	bottom := at(x0, y0+1)*(1-fx) + at(x0+1, y0+1)*fx
	return top*(1-fy) + bottom*fy
}

// noiseCurve draws a wavy line across the whole image.
func noiseCurve(img *image.RGBA, rng *rand.Rand, col color.RGBA, thickness int) {
	base := 10 + rng.Float64()*(captchaHeight-20)
	amp := 5 + rng.Float64()*15
	freq := (0.5 + rng.Float64()*1.5) * 2 * math.Pi / captchaWidth
	phase := rng.Float64() * 2 * math.Pi
	slope := rng.Float64()*0.3 - 0.15
	for x := 0; x < captchaWidth; x++ {
		y := int(base + amp*math.Sin(freq*float64(x)+phase) + slope*float64(x-captchaWidth/2))
		for t := 0; t < thickness; t++ {
			if yy := y + t; yy >= 0 && yy < captchaHeight {
				img.SetRGBA(x, yy, col)
			}
		}
	}
}

func randomColor(rng *rand.Rand, lo, hi int) color.RGBA {
	ch := func() uint8 { return uint8(lo + rng.IntN(hi-lo+1)) }
	return color.RGBA{ch(), ch(), ch(), 255}
}

func blend(bg, fg uint8, alpha float64) uint8 {
	return clamp8(float64(bg)*(1-alpha) + float64(fg)*alpha)
}

func clamp8(v float64) uint8 {
	return uint8(math.Max(0, math.Min(255, math.Round(v))))
}
