package courtsim

import (
	"encoding/json"
	"image"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// The two challenge types the gkw server hands out (Tianai's names).
const (
	gkwSlider    = "SLIDER"
	gkwWordClick = "WORD_IMAGE_CLICK"
)

// Rules of the check, Tianai's defaults where Tianai has one.
const (
	gkwSliderTolerance = 0.02 * gkwImageWidth // final piece offset, image px (Tianai: 2% of the width)
	gkwClickTolerance  = 28                   // distance of a click from its character's centre, image px
	gkwMinDragTime     = 300                  // ms from the first to the last track point of a drag
	gkwMinDragPoints   = 10                   // track points of a drag
)

// Tianai's answer codes.
const (
	gkwCodeOK        = 200
	gkwCodeBadParam  = 403  // 无效参数
	gkwCodeExpired   = 4000 // the challenge is unknown, used or too old
	gkwCodeCheckFail = 4001 // the action did not solve it
)

// gkwState is where a challenge is in its life.
type gkwState int

const (
	gkwPending gkwState = iota // shown, waiting for its one check
	gkwFailed                  // checked and refused
	gkwPassed                  // checked and accepted: it is now a token
)

func (st gkwState) String() string {
	return [...]string{"pending", "failed", "passed"}[st]
}

// gkwChallenge is one challenge and, once passed, the token it became.
type gkwChallenge struct {
	id      string
	kind    string
	created time.Time
	state   gkwState
	touched time.Time

	sliderX, sliderY int           // SLIDER: the piece's place, image px
	words            []rune        // WORD_IMAGE_CLICK: to click, in order
	points           []image.Point // their centres, image px

	token    string    // pCode once passed
	passedAt time.Time // start of the token's lifetime
	searches int       // searches made with the token
	dead     bool      // the server refused the token once: it stays refused
}

// gkwStore keeps gkw challenges and tokens. Safe for concurrent use.
type gkwStore struct {
	challengeTTL time.Duration
	tokenTTL     time.Duration
	tokenUses    int
	now          func() time.Time

	mu sync.Mutex
	m  map[string]*gkwChallenge
}

func newGkwStore(challengeTTL, tokenTTL time.Duration, tokenUses int, now func() time.Time) *gkwStore {
	return &gkwStore{challengeTTL: challengeTTL, tokenTTL: tokenTTL, tokenUses: tokenUses, now: now, m: map[string]*gkwChallenge{}}
}

// nextKind picks the type of a new challenge: the other type when the
// widget's previous challenge failed, else forced, else at random.
func (g *gkwStore) nextKind(previousID, forced string) string {
	g.mu.Lock()
	prev, ok := g.m[previousID]
	failed := ok && prev.state == gkwFailed
	g.mu.Unlock()
	switch {
	case failed && prev.kind == gkwSlider:
		return gkwWordClick
	case failed:
		return gkwSlider
	case forced != "":
		return forced
	case rand.IntN(2) == 0:
		return gkwSlider
	default:
		return gkwWordClick
	}
}

// add stores a new challenge under a fresh id.
func (g *gkwStore) add(ch *gkwChallenge) string {
	ch.id = randomString(idAlphabet, 32)
	now := g.now()
	ch.created, ch.touched = now, now
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.m) > 1000 {
		for k, e := range g.m {
			if now.Sub(e.touched) > captchaIdleLimit {
				delete(g.m, k)
			}
		}
	}
	g.m[ch.id] = ch
	return ch.id
}

// check runs the one check a challenge gets. It answers the token on
// success, else a Tianai code: expired for an unknown, used or old
// challenge, check-fail when solve says no.
func (g *gkwStore) check(id string, solve func(*gkwChallenge) bool) (string, int) {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	ch, ok := g.m[id]
	if !ok || ch.state != gkwPending || now.Sub(ch.created) > g.challengeTTL {
		return "", gkwCodeExpired
	}
	ch.touched = now
	if !solve(ch) {
		ch.state = gkwFailed
		return "", gkwCodeCheckFail
	}
	ch.state = gkwPassed
	ch.token = randomString(idAlphabet, 32)
	ch.passedAt = now
	return ch.token, gkwCodeOK
}

// search spends one search of a token; false when the token is wrong,
// too old or spent, after which it is refused for good.
func (g *gkwStore) search(id, token string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	ch, ok := g.liveLocked(id, token)
	if !ok {
		return false
	}
	if ch.searches >= g.tokenUses {
		ch.dead = true
		return false
	}
	ch.searches++
	ch.touched = g.now()
	return true
}

// live tells whether a token still serves details, which spend nothing.
func (g *gkwStore) live(id, token string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.liveLocked(id, token)
	return ok
}

func (g *gkwStore) liveLocked(id, token string) (*gkwChallenge, bool) {
	ch, ok := g.m[id]
	if !ok || ch.state != gkwPassed || token == "" || ch.token != token || ch.dead {
		return nil, false
	}
	if g.now().Sub(ch.passedAt) > g.tokenTTL {
		ch.dead = true
		return nil, false
	}
	return ch, true
}

// info is the side door's view of a challenge.
func (g *gkwStore) info(id string) (GkwCaptcha, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	ch, ok := g.m[id]
	if !ok {
		return GkwCaptcha{}, false
	}
	c := GkwCaptcha{
		ID: ch.id, Type: ch.kind, State: ch.state.String(),
		ImageWidth: gkwImageWidth, ImageHeight: gkwImageHeight,
		DisplayWidth: gkwImageWidth / gkwCSSScale, DisplayHeight: gkwImageHeight / gkwCSSScale,
		Points: []GkwPoint{},
	}
	if ch.kind == gkwSlider {
		c.SliderX = ch.sliderX
		c.SliderXCSS = float64(ch.sliderX) / gkwCSSScale
	}
	c.Words = string(ch.words)
	for _, p := range ch.points {
		c.Points = append(c.Points, GkwPoint{X: p.X, Y: p.Y, CSSX: float64(p.X) / gkwCSSScale, CSSY: float64(p.Y) / gkwCSSScale})
	}
	return c, true
}

// GkwCaptcha is what the side door tells a test about one gkw challenge.
// CSS px are those of the widget as the page shows it: the background
// #tianai-captcha-slider-bg-img is DisplayWidth x DisplayHeight CSS px.
type GkwCaptcha struct {
	ID            string `json:"id"`    // the challenge id, as in the page's #captchaId
	Type          string `json:"type"`  // "SLIDER" or "WORD_IMAGE_CLICK"
	State         string `json:"state"` // "pending", "failed" or "passed"
	ImageWidth    int    `json:"imageWidth"`
	ImageHeight   int    `json:"imageHeight"`
	DisplayWidth  int    `json:"displayWidth"`
	DisplayHeight int    `json:"displayHeight"`
	// SLIDER: where the piece's left edge must end. The slider button moves
	// with the piece, so SliderXCSS is also how far to drag the button.
	SliderX    int     `json:"sliderX"`    // image px
	SliderXCSS float64 `json:"sliderXCss"` // CSS px
	// WORD_IMAGE_CLICK: the characters to click, and where, in order;
	// from the top-left corner of the background.
	Words  string     `json:"words"`
	Points []GkwPoint `json:"points"`
}

// GkwPoint is a point on the captcha background.
type GkwPoint struct {
	X    int     `json:"x"` // image px
	Y    int     `json:"y"`
	CSSX float64 `json:"cssX"` // CSS px
	CSSY float64 `json:"cssY"`
}

// gkwAnswer is the envelope of every gkw JSON answer.
type gkwAnswer struct {
	Success bool   `json:"success"`
	Code    int    `json:"code"`
	Msg     string `json:"msg"`
	Data    any    `json:"data"`
}

// gkwCaptchaData is the create answer's data, with Tianai's field names.
type gkwCaptchaData struct {
	ID                    string         `json:"id"`
	Type                  string         `json:"type"`
	BackgroundImage       string         `json:"backgroundImage"`
	TemplateImage         string         `json:"templateImage"`
	BackgroundImageWidth  int            `json:"backgroundImageWidth"`
	BackgroundImageHeight int            `json:"backgroundImageHeight"`
	TemplateImageWidth    int            `json:"templateImageWidth"`
	TemplateImageHeight   int            `json:"templateImageHeight"`
	Data                  map[string]int `json:"data"` // WORD_IMAGE_CLICK: {"wordCount": n}
}

// gkwTrackPoint is one point of the track the widget sends with a check:
// CSS px from where the drag began (SLIDER) or from the background's
// top-left (a "click"), t in ms since the widget started tracking.
type gkwTrackPoint struct {
	X    float64 `json:"x"`
	Y    float64 `json:"y"`
	Type string  `json:"type"` // down, move, up, click
	T    int64   `json:"t"`
}

// gkwCheckRequest is Tianai's check body.
type gkwCheckRequest struct {
	ID   string `json:"id"`
	Data struct {
		BgImageWidth  float64         `json:"bgImageWidth"`
		BgImageHeight float64         `json:"bgImageHeight"`
		TrackList     []gkwTrackPoint `json:"trackList"` // startTime, stopTime and the template size are sent too, and not needed
	} `json:"data"`
}

// gkwCreateCaptcha makes a challenge of the type the server picks, after
// the configured delay (the widget stays in its loading state meanwhile).
func (s *Sim) gkwCreateCaptcha(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeStatusJSON(w, http.StatusBadRequest, gkwAnswer{Code: gkwCodeBadParam, Msg: "无效参数"})
		return
	}
	if !sleepCtx(r, s.cfg.GkwCaptchaDelay) {
		return
	}
	ch := &gkwChallenge{kind: s.gkw.nextKind(r.PostForm.Get("previousId"), s.cfg.GkwCaptchaType)}
	data := gkwCaptchaData{
		Type:                  ch.kind,
		BackgroundImageWidth:  gkwImageWidth,
		BackgroundImageHeight: gkwImageHeight,
	}
	if ch.kind == gkwSlider {
		pic, err := s.painter.gkwSlider()
		if err != nil {
			http.Error(w, "captcha: "+err.Error(), http.StatusInternalServerError)
			return
		}
		ch.sliderX, ch.sliderY = pic.x, pic.y
		data.BackgroundImage = dataURL("image/jpeg", pic.background)
		data.TemplateImage = dataURL("image/png", pic.template)
		data.TemplateImageWidth, data.TemplateImageHeight = gkwPieceWidth, gkwImageHeight
	} else {
		pic, err := s.painter.gkwWords()
		if err != nil {
			http.Error(w, "captcha: "+err.Error(), http.StatusInternalServerError)
			return
		}
		ch.words, ch.points = pic.words, pic.points
		data.BackgroundImage = dataURL("image/jpeg", pic.background)
		data.TemplateImage = dataURL("image/png", pic.template)
		data.TemplateImageWidth, data.TemplateImageHeight = gkwTipWidth, gkwTipHeight
		data.Data = map[string]int{"wordCount": len(pic.words)}
	}
	data.ID = s.gkw.add(ch)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, gkwAnswer{Success: true, Code: gkwCodeOK, Msg: "OK", Data: data})
}

// gkwCheckCaptcha checks the widget's track against its challenge.
func (s *Sim) gkwCheckCaptcha(w http.ResponseWriter, r *http.Request) {
	var req gkwCheckRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil || req.ID == "" {
		writeStatusJSON(w, http.StatusBadRequest, gkwAnswer{Code: gkwCodeBadParam, Msg: "无效参数"})
		return
	}
	token, code := s.gkw.check(req.ID, func(ch *gkwChallenge) bool {
		if ch.kind == gkwSlider {
			return sliderSolved(ch, req)
		}
		return wordsSolved(ch, req)
	})
	switch code {
	case gkwCodeOK:
		writeJSON(w, gkwAnswer{Success: true, Code: gkwCodeOK, Msg: "OK",
			Data: map[string]string{"id": req.ID, "validToken": token}})
	case gkwCodeExpired:
		writeJSON(w, gkwAnswer{Code: gkwCodeExpired, Msg: "验证码已失效"})
	default:
		writeJSON(w, gkwAnswer{Code: gkwCodeCheckFail, Msg: "基础校验失败"})
	}
}

// sliderSolved wants a drag of enough points and time whose last point
// puts the piece within the tolerance of its place.
func sliderSolved(ch *gkwChallenge, req gkwCheckRequest) bool {
	track := req.Data.TrackList
	if len(track) < gkwMinDragPoints || req.Data.BgImageWidth <= 0 {
		return false
	}
	if track[len(track)-1].T-track[0].T < gkwMinDragTime {
		return false
	}
	scale := gkwImageWidth / req.Data.BgImageWidth
	final := track[len(track)-1].X * scale
	return math.Abs(final-float64(ch.sliderX)) <= gkwSliderTolerance
}

// wordsSolved wants exactly one click per word, each near its word, in order.
func wordsSolved(ch *gkwChallenge, req gkwCheckRequest) bool {
	if req.Data.BgImageWidth <= 0 || req.Data.BgImageHeight <= 0 {
		return false
	}
	sx, sy := gkwImageWidth/req.Data.BgImageWidth, gkwImageHeight/req.Data.BgImageHeight
	var clicks []gkwTrackPoint
	for _, p := range req.Data.TrackList {
		if p.Type == "click" {
			clicks = append(clicks, p)
		}
	}
	if len(clicks) != len(ch.points) {
		return false
	}
	for i, c := range clicks {
		want := ch.points[i]
		if math.Hypot(c.X*sx-float64(want.X), c.Y*sy-float64(want.Y)) > gkwClickTolerance {
			return false
		}
	}
	return true
}

// writeStatusJSON answers v as JSON with a status other than 200.
func writeStatusJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "json: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
