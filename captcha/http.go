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
)

//go:embed review.html static
var assets embed.FS

const (
	defaultPollWait = 25 * time.Second
	maxPollWait     = 30 * time.Second
	maxAnswerBody   = 4 << 10
	// backlogHeader carries the backlog on every next answer, 200 and 204 alike.
	backlogHeader = "X-Captcha-Backlog"
)

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
	if err := q.page.Execute(w, struct{ Backlog string }{backlog}); err != nil {
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
	ctx := r.Context()
	p, ok, err := q.Next(ctx, wait)
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

// answerBody is what the review page posts: an answer, or an action.
type answerBody struct {
	Answer *string `json:"answer"`
	Action string  `json:"action"`
}

// HandleAnswer takes a person's answer, skip or refresh
// (POST /api/v1/captcha/{id}): 204, 404 unknown or expired, 400 bad body, 422 empty answer.
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
	ctx := r.Context()
	id := r.PathValue("id")
	var err error
	switch {
	case body.Answer != nil && body.Action == "":
		err = q.Answer(ctx, id, *body.Answer)
	case body.Answer == nil && body.Action == "skip":
		err = q.Skip(ctx, id)
	case body.Answer == nil && body.Action == "refresh":
		err = q.Refresh(ctx, id)
	default:
		writeError(w, http.StatusBadRequest, `body must hold "answer", or "action" skip or refresh`)
		return
	}
	switch {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
	case errors.Is(err, ErrUnknownChallenge):
		writeError(w, http.StatusNotFound, "unknown or expired challenge")
	case errors.Is(err, ErrEmptyAnswer):
		writeError(w, http.StatusUnprocessableEntity, "empty answer")
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
