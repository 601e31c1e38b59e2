package courtsim

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
)

// Images of the gkw behavioural captcha, drawn like Tianai's: a JPEG
// background and a PNG template (the puzzle piece, or the characters to click).
const (
	gkwImageWidth  = 600 // background, image px
	gkwImageHeight = 360
	gkwCSSScale    = 2   // image px per CSS px: the widget shows the background at 300x180
	gkwPieceWidth  = 110 // SLIDER template: a strip as high as the background with the piece in it
	gkwPieceBox    = 110 // the piece's square box inside the strip
	gkwTipWidth    = 240 // WORD_IMAGE_CLICK template: the characters to click, in order
	gkwTipHeight   = 60
	gkwWordsShown  = 5 // characters on the background
	gkwWordsAsked  = 4 // of which the person clicks these, in the order of the tip
)

// gkwWordAlphabet is upper case and digits without look-alikes (0 O 1 I 6 9).
const gkwWordAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ234578"

// gkwSliderPicture is a drawn SLIDER challenge: the piece belongs at (x, y)
// of the background, image px, top-left of its box.
type gkwSliderPicture struct {
	background, template []byte // JPEG, PNG
	x, y                 int
}

// gkwWordPicture is a drawn WORD_IMAGE_CLICK challenge: words to click in
// order, and the centre of each on the background, image px.
type gkwWordPicture struct {
	background, template []byte // JPEG, PNG
	words                []rune
	points               []image.Point
}

// gkwSlider draws a background with a piece-shaped hole and the piece.
func (c *captchaPainter) gkwSlider() (gkwSliderPicture, error) {
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	bg := gkwBackground(rng)
	x := 130 + rng.IntN(gkwImageWidth-gkwPieceBox-10-130+1)
	y := 10 + rng.IntN(gkwImageHeight-gkwPieceBox-20+1)

	tpl := image.NewNRGBA(image.Rect(0, 0, gkwPieceWidth, gkwImageHeight))
	for ly := range gkwPieceBox {
		for lx := range gkwPieceBox {
			fx, fy := float64(lx)+0.5, float64(ly)+0.5
			switch {
			case inPiece(fx, fy):
				p := bg.RGBAAt(x+lx, y+ly)
				if pieceEdge(fx, fy) {
					p = mix(p, color.RGBA{255, 255, 255, 255}, 0.8)
				}
				tpl.SetNRGBA(lx, y+ly, color.NRGBA{p.R, p.G, p.B, 255})
			case nearPiece(fx, fy, 4):
				tpl.SetNRGBA(lx, y+ly, color.NRGBA{0, 0, 0, 90}) // a soft shadow lifts the piece
			}
		}
	}
	// Only now cut the hole: the piece carries the picture as it was.
	for ly := range gkwPieceBox {
		for lx := range gkwPieceBox {
			fx, fy := float64(lx)+0.5, float64(ly)+0.5
			if !inPiece(fx, fy) {
				continue
			}
			p := bg.RGBAAt(x+lx, y+ly)
			if pieceEdge(fx, fy) {
				p = mix(p, color.RGBA{255, 255, 255, 255}, 0.6)
			} else {
				p = mix(p, color.RGBA{0, 0, 0, 255}, 0.55)
			}
			bg.SetRGBA(x+lx, y+ly, p)
		}
	}
	bgJPEG, err := encodeJPEG(bg)
	if err != nil {
		return gkwSliderPicture{}, err
	}
	tplPNG, err := encodePNG(tpl)
	if err != nil {
		return gkwSliderPicture{}, err
	}
	return gkwSliderPicture{background: bgJPEG, template: tplPNG, x: x, y: y}, nil
}

// inPiece tells whether a point of the piece's box is inside the piece: a
// square with a knob on top and on the right and a socket on the left.
func inPiece(x, y float64) bool {
	in := x >= 18 && x <= 92 && y >= 18 && y <= 92
	if math.Hypot(x-55, y-18) <= 14 || math.Hypot(x-92, y-55) <= 14 {
		in = true
	}
	if math.Hypot(x-18, y-55) <= 12 {
		in = false
	}
	return in
}

// pieceEdge tells whether a point inside the piece lies on its border.
func pieceEdge(x, y float64) bool {
	const w = 2.5
	return !(inPiece(x-w, y) && inPiece(x+w, y) && inPiece(x, y-w) && inPiece(x, y+w))
}

// nearPiece tells whether a point outside the piece lies within d of it.
func nearPiece(x, y, d float64) bool {
	for a := 0.0; a < 2*math.Pi; a += math.Pi / 6 {
		if inPiece(x+d*math.Cos(a), y+d*math.Sin(a)) {
			return true
		}
	}
	return false
}

// gkwWords draws gkwWordsShown characters on a background and a tip with
// gkwWordsAsked of them in the order to click.
func (c *captchaPainter) gkwWords() (gkwWordPicture, error) {
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	face, err := opentype.NewFace(c.font, &opentype.FaceOptions{Size: 46, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		return gkwWordPicture{}, fmt.Errorf("captcha face: %w", err)
	}
	defer face.Close()

	alphabet := []rune(gkwWordAlphabet)
	rng.Shuffle(len(alphabet), func(i, j int) { alphabet[i], alphabet[j] = alphabet[j], alphabet[i] })
	shown := alphabet[:gkwWordsShown]
	centres := spreadPoints(rng, gkwWordsShown)

	bg := gkwBackground(rng)
	palette := []color.RGBA{{190, 20, 20, 255}, {20, 50, 190, 255}, {10, 110, 30, 255}, {120, 20, 150, 255}, {30, 30, 30, 255}, {170, 80, 0, 255}}
	white := color.RGBA{255, 255, 255, 255}
	for i, ch := range shown {
		mask, _ := glyphMask(face, ch)
		cx, cy := float64(centres[i].X), float64(centres[i].Y)
		angle := (rng.Float64()*60 - 30) * math.Pi / 180
		shear := rng.Float64()*0.3 - 0.15
		scale := 1.45 + rng.Float64()*0.3
		// A white halo keeps the character readable on any part of the picture.
		drawDistorted(bg, dilate(mask, 2), cx, cy, angle, shear, scale, scale, white)
		drawDistorted(bg, mask, cx, cy, angle, shear, scale, scale, palette[rng.IntN(len(palette))])
	}

	order := rng.Perm(gkwWordsShown)[:gkwWordsAsked]
	pic := gkwWordPicture{}
	tip := image.NewRGBA(image.Rect(0, 0, gkwTipWidth, gkwTipHeight))
	for y := range gkwTipHeight {
		for x := range gkwTipWidth {
			tip.SetRGBA(x, y, color.RGBA{248, 248, 248, 255})
		}
	}
	step := float64(gkwTipWidth) / gkwWordsAsked
	for i, k := range order {
		pic.words = append(pic.words, shown[k])
		pic.points = append(pic.points, centres[k])
		mask, _ := glyphMask(face, shown[k])
		drawDistorted(tip, mask, step*(float64(i)+0.5), gkwTipHeight/2, 0, 0, 1, 1, color.RGBA{40, 40, 40, 255})
	}
	if pic.background, err = encodeJPEG(bg); err != nil {
		return gkwWordPicture{}, err
	}
	if pic.template, err = encodePNG(tip); err != nil {
		return gkwWordPicture{}, err
	}
	return pic, nil
}

// spreadPoints draws n character centres far enough apart that neither the
// characters nor their click tolerances overlap.
func spreadPoints(rng *rand.Rand, n int) []image.Point {
	const margin, minDist = 55, 115
	for {
		var pts []image.Point
		for tries := 0; len(pts) < n && tries < 500; tries++ {
			p := image.Pt(margin+rng.IntN(gkwImageWidth-2*margin), margin+rng.IntN(gkwImageHeight-2*margin))
			ok := true
			for _, q := range pts {
				if math.Hypot(float64(p.X-q.X), float64(p.Y-q.Y)) < minDist {
					ok = false
					break
				}
			}
			if ok {
				pts = append(pts, p)
			}
		}
		if len(pts) == n {
			return pts
		}
	}
}

// dilate grows the ink of a glyph mask by r pixels.
func dilate(mask *image.Alpha, r int) *image.Alpha {
	b := mask.Bounds()
	out := image.NewAlpha(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			var m uint8
			for dy := -r; dy <= r; dy++ {
				for dx := -r; dx <= r; dx++ {
					if dx*dx+dy*dy <= r*r {
						m = max(m, mask.AlphaAt(x+dx, y+dy).A)
					}
				}
			}
			out.SetAlpha(x, y, color.Alpha{A: m})
		}
	}
	return out
}

// gkwBackground paints a made-up landscape: a sky gradient, three rows of
// hills, soft round shapes and grain, so a cut-out piece shows against it.
func gkwBackground(rng *rand.Rand) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, gkwImageWidth, gkwImageHeight))
	skyTop := color.RGBA{uint8(60 + rng.IntN(80)), uint8(120 + rng.IntN(80)), uint8(190 + rng.IntN(60)), 255}
	skyLow := color.RGBA{uint8(200 + rng.IntN(50)), uint8(190 + rng.IntN(50)), uint8(160 + rng.IntN(80)), 255}
	for y := range gkwImageHeight {
		row := mix(skyTop, skyLow, float64(y)/gkwImageHeight)
		for x := range gkwImageWidth {
			setPix(img, x, y, row)
		}
	}
	// Sun and clouds behind the hills.
	blob(img, float64(rng.IntN(gkwImageWidth)), 40+rng.Float64()*60, 25+rng.Float64()*20, color.RGBA{255, 230, 150, 255}, 0.9)
	for range 6 {
		blob(img, rng.Float64()*gkwImageWidth, rng.Float64()*140, 20+rng.Float64()*40, color.RGBA{255, 255, 255, 255}, 0.5)
	}
	for layer := range 3 {
		base := gkwImageHeight * (0.35 + 0.18*float64(layer))
		a1, a2 := 15+rng.Float64()*35, 5+rng.Float64()*15
		f1, f2 := (1+rng.Float64()*2)*2*math.Pi/gkwImageWidth, (4+rng.Float64()*6)*2*math.Pi/gkwImageWidth
		p1, p2 := rng.Float64()*2*math.Pi, rng.Float64()*2*math.Pi
		col := color.RGBA{uint8(30 + rng.IntN(120)), uint8(80 + rng.IntN(120)), uint8(20 + rng.IntN(90)), 255}
		col = mix(col, color.RGBA{0, 0, 0, 255}, 0.15*float64(layer))
		for x := range gkwImageWidth {
			top := int(base + a1*math.Sin(f1*float64(x)+p1) + a2*math.Sin(f2*float64(x)+p2))
			for y := max(top, 0); y < gkwImageHeight; y++ {
				setPix(img, x, y, mix(col, color.RGBA{0, 0, 0, 255}, 0.3*float64(y-top)/gkwImageHeight))
			}
		}
	}
	// Trees and rocks in front.
	for range 14 {
		col := color.RGBA{uint8(rng.IntN(120)), uint8(60 + rng.IntN(120)), uint8(rng.IntN(100)), 255}
		blob(img, rng.Float64()*gkwImageWidth, 150+rng.Float64()*200, 10+rng.Float64()*30, col, 0.75)
	}
	// Grain: every pixel lighter or darker by up to 8.
	for i := 0; i < len(img.Pix); i += 4 {
		n := rng.IntN(17) - 8
		for c := i; c < i+3; c++ {
			img.Pix[c] = uint8(min(255, max(0, int(img.Pix[c])+n)))
		}
	}
	return img
}

// setPix writes an opaque pixel inside img without bounds checks.
func setPix(img *image.RGBA, x, y int, c color.RGBA) {
	i := img.PixOffset(x, y)
	img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, 255
}

// blob paints a soft-edged disc.
func blob(img *image.RGBA, cx, cy, r float64, col color.RGBA, alpha float64) {
	for y := int(cy - r); y <= int(cy+r); y++ {
		for x := int(cx - r); x <= int(cx+r); x++ {
			if !(image.Point{X: x, Y: y}).In(img.Bounds()) {
				continue
			}
			d := math.Hypot(float64(x)-cx, float64(y)-cy)
			if d > r {
				continue
			}
			a := alpha * math.Min(1, (r-d)/4) // feather the rim
			img.SetRGBA(x, y, mix(img.RGBAAt(x, y), col, a))
		}
	}
}

// mix blends b over a by t in 0..1 (hot: no clamping beyond t's).
func mix(a, b color.RGBA, t float64) color.RGBA {
	t = min(1, max(0, t))
	m := func(x, y uint8) uint8 { return uint8(float64(x)*(1-t) + float64(y)*t + 0.5) }
	return color.RGBA{m(a.R, b.R), m(a.G, b.G), m(a.B, b.B), 255}
}

func encodeJPEG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		return nil, fmt.Errorf("captcha jpeg: %w", err)
	}
	return buf.Bytes(), nil
}

func encodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("captcha png: %w", err)
	}
	return buf.Bytes(), nil
}

// dataURL is how Tianai hands images to the page.
func dataURL(mime string, b []byte) string {
	return "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(b)
}
