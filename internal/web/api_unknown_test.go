package web

import (
	"encoding/json"
	"mime"
	"net/http"
	"testing"
)

// TestAPIUnknownEndpoint checks that every request under /api/ that no
// API route matches answers 404 in the JSON error format, whatever its
// method, while unknown browser paths keep a non-JSON answer.
func TestAPIUnknownEndpoint(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		method, path string
	}{
		{"GET", "/api/"},
		{"GET", "/api/v1/nope"},
		{"POST", "/api/v1/nope"},
		{"PUT", "/api/v1/nope"},
		{"PATCH", "/api/v1/nope"},
		{"DELETE", "/api/v1/nope"},
		{"OPTIONS", "/api/v1/nope"},
		{"POST", "/api/v2/login"},
		{"GET", "/api/v1/account/nope"},
		// A known path with another method has no route either.
		{"GET", "/api/v1/login"},
		{"POST", "/api/v1/account"},
		{"DELETE", "/api/v1/account/2fa/enable"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			got := e.client().raw(tt.method, tt.path, http.Header{}, nil)
			if got.status != http.StatusNotFound {
				t.Fatalf("got status %d, want 404 (body %s)", got.status, got.body)
			}
			if mt := mediaType(t, got); mt != "application/json" {
				t.Errorf("got Content-Type %q, want application/json", mt)
			}
			var body struct {
				Error struct {
					Code    string `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal(got.body, &body); err != nil {
				t.Fatalf("body %q is not JSON: %v", got.body, err)
			}
			if body.Error.Code != "not_found" {
				t.Errorf("got error code %q, want not_found", body.Error.Code)
			}
			if body.Error.Message == "" {
				t.Error("got an empty error message, want one")
			}
		})
	}

	t.Run("HEAD /api/v1/nope", func(t *testing.T) {
		got := e.client().raw("HEAD", "/api/v1/nope", http.Header{}, nil)
		if got.status != http.StatusNotFound {
			t.Fatalf("got status %d, want 404", got.status)
		}
		if mt := mediaType(t, got); mt != "application/json" {
			t.Errorf("got Content-Type %q, want application/json", mt)
		}
	})
	t.Run("browser path", func(t *testing.T) {
		got := e.client().raw("GET", "/no-such-page", http.Header{}, nil)
		if got.status != http.StatusNotFound {
			t.Fatalf("got status %d, want 404", got.status)
		}
		if mt := mediaType(t, got); mt == "application/json" {
			t.Errorf("got Content-Type %q, want the pages' own answer", mt)
		}
	})
}

// mediaType returns the media type of an answer's Content-Type, or "".
func mediaType(t *testing.T, a answer) string {
	t.Helper()
	ct := a.header.Get("Content-Type")
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		t.Fatalf("Content-Type %q: %v", ct, err)
	}
	return mt
}
