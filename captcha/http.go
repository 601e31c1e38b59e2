package captcha

import (
	"context"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/shixincheck/shixincheck"
)

//go:embed review.html static
var assets embed.FS

const (
	defaultPollWait = 25 * time.Second
	maxPollWait     = 30 * time.Second
	// maxAnswerBody fits the longest drag allowed (maxPoints) with room to spare.
	maxAnswerBody = 256 << 10
	// backlogHeader carries the backlog on every next answer, 200 and 204 alike.
	backlogHeader = "X-Captcha-Backlog"
	// OperatorHeader carries the review page's operator id (opaque, random
	// per browser tab) on next and answer requests.
	OperatorHeader = "X-Captcha-Operator"
	maxOperatorLen = 128
)

// operatorFromHeader is the default Config.Operator.
func operatorFromHeader(r *http.Request) string { return r.Header.Get(OperatorHeader) }

// operatorOf tells who asks; false (after a 400) when the id is unusable.
func (q *Queue) operatorOf(w http.ResponseWriter, r *http.Request) (string, bool) {
	op := q.operator(r)
	if len(op) > maxOperatorLen {
		writeError(w, http.StatusBadRequest, "operator id too long")
		return "", false
	}
	return op, true
}

// HandleReviewPage serves the review page (GET /captcha).
func (q *Queue) HandleReviewPage(w http.ResponseWriter, r *http.Request) {
	backlog := "—"
	if n, err := q.Backlog(r.Context()); err == nil {
		backlog = strconv.FormatInt(n, 10)
	} else {
		slog.WarnContext(r.Context(), "captcha: review page backlog", "err", err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	var token string
	if q.csrf != nil {
		token = q.csrf(r)
	}
	if err := q.page.Execute(w, struct{ Backlog, CSRFToken string }{backlog, token}); err != nil {
		slog.WarnContext(r.Context(), "captcha: review page", "err", err)
	}
}

// HandleStatic serves the review page's script and style (GET /captcha/static/).
func (q *Queue) HandleStatic(w http.ResponseWriter, r *http.Request) {
	base := strings.TrimPrefix(r.URL.Path, "/captcha/static/")
	name := "static/" + base
	if _, err := fs.Stat(assets, name); err != nil || base == "" || strings.Contains(base, "/") {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeFileFS(w, r, assets, name)
}

// nextBody is the JSON of a challenge for the review page. The image comes
// inline, so no URL ever carries more than the challenge id.
type nextBody struct {
	Pending
	Image string `json:"image"`
}

// HandleNext long-polls for the next challenge
// (GET /api/v1/captcha/next?wait=25s): 200 with the challenge, or 204.
func (q *Queue) HandleNext(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	wait := defaultPollWait
	if s := r.URL.Query().Get("wait"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			writeError(w, http.StatusBadRequest, "wait must be a duration such as 25s")
			return
		}
		wait = min(d, maxPollWait)
	}
	op, ok := q.operatorOf(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	p, ok, err := q.Next(ctx, op, wait)
	if err != nil {
		if ctx.Err() == nil {
			slog.ErrorContext(ctx, "captcha: next challenge", "err", err)
			writeError(w, http.StatusInternalServerError, "queue unavailable")
		}
		return
	}
	if ok && ctx.Err() != nil {
		// The person left while the challenge arrived: give it back.
		if err := q.unclaim(context.WithoutCancel(ctx), p.ID); err != nil {
			slog.WarnContext(ctx, "captcha: give back challenge", "challenge", p.ID, "err", err)
		}
		return
	}
	if n, err := q.Backlog(ctx); err == nil {
		w.Header().Set(backlogHeader, strconv.FormatInt(n, 10))
	}
	if !ok {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, nextBody{Pending: p, Image: dataURL(p.Image)})
}

// answerBody is what the review page posts: an answer, actions, or skip / refresh.
type answerBody struct {
	Answer  *string              `json:"answer"`
	Actions []shixincheck.Action `json:"actions"`
	Action  string               `json:"action"`
}

// HandleAnswer takes a person's answer, actions, skip or refresh
// (POST /api/v1/captcha/{id}): 204; 404 unknown or expired; 409 held by
// another person; 400 bad body; 422 empty answer, invalid actions, or an
// answer that does not fit the challenge's kind.
func (q *Queue) HandleAnswer(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	// A JSON content type cannot be sent cross-site without a preflight.
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeError(w, http.StatusBadRequest, "body must be application/json")
		return
	}
	var body answerBody
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAnswerBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || dec.Decode(&struct{}{}) != io.EOF {
		writeError(w, http.StatusBadRequest, "body must be one JSON object")
		return
	}
	op, ok := q.operatorOf(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	id := r.PathValue("id")
	var err error
	switch {
	case body.Answer != nil && body.Actions == nil && body.Action == "":
		err = q.Answer(ctx, id, op, *body.Answer)
	case body.Answer == nil && body.Actions != nil && body.Action == "":
		err = q.Act(ctx, id, op, body.Actions)
	case body.Answer == nil && body.Actions == nil && body.Action == "skip":
		err = q.Skip(ctx, id, op)
	case body.Answer == nil && body.Actions == nil && body.Action == "refresh":
		err = q.Refresh(ctx, id, op)
	default:
		writeError(w, http.StatusBadRequest, `body must hold one of "answer", "actions", or "action" skip or refresh`)
		return
	}
	switch {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
	case errors.Is(err, ErrUnknownChallenge):
		writeError(w, http.StatusNotFound, "unknown or expired challenge")
	case errors.Is(err, ErrHeld):
		writeError(w, http.StatusConflict, "challenge held by another person")
	case errors.Is(err, ErrEmptyAnswer):
		writeError(w, http.StatusUnprocessableEntity, "empty answer")
	case errors.Is(err, ErrWrongKind):
		writeError(w, http.StatusUnprocessableEntity, "text answers a text challenge, actions an interactive one")
	case errors.Is(err, ErrInvalidActions):
		writeError(w, http.StatusUnprocessableEntity, strings.TrimPrefix(err.Error(), "captcha: "))
	default:
		slog.ErrorContext(ctx, "captcha: answer", "challenge", id, "err", err)
		writeError(w, http.StatusInternalServerError, "queue unavailable")
	}
}

// dataURL inlines an image; the court site's captcha is a PNG.
func dataURL(img []byte) string {
	ct := http.DetectContentType(img)
	if !strings.HasPrefix(ct, "image/") {
		ct = "image/png"
	}
	return "data:" + ct + ";base64," + base64.StdEncoding.EncodeToString(img)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		slog.Warn("captcha: write response", "err", err)
	}
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
