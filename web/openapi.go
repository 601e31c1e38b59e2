package web

import (
	_ "embed"
	"net/http"
)

// openAPI describes every /api/v1 route; openapi_test.go holds it against routes.go.
//
//go:embed openapi.yaml
var openAPI []byte

// handleOpenAPI serves the API's description (GET /api/v1/openapi.yaml).
func handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(openAPI)
}
