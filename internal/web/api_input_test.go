package web

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestAPIBadInput: whatever arrives, the answer is 400 or 413, never 500,
// and the server keeps serving.
func TestAPIBadInput(t *testing.T) {
	json := http.Header{"Content-Type": {"application/json"}}
	big := strings.Repeat("a", 2<<20)
	tests := []struct {
		name   string
		path   string
		header http.Header
		body   func() io.Reader
		status int
		code   string
	}{
		{"syntax error", "/api/v1/login", json, text(`{"email":`), 400, "invalid_input"},
		{"not an object", "/api/v1/login", json, text(`["a@b.c","pw"]`), 400, "invalid_input"},
		{"a string", "/api/v1/login", json, text(`"hello"`), 400, "invalid_input"},
		{"null", "/api/v1/login", json, text(` null`), 400, "invalid_input"},
		{"white space then an object", "/api/v1/login", json,
			text("\r\n\t {\"email\":\"a@b.co\",\"password\":\"wrong password\"}"),
			401, "invalid_credentials"},
		{"wrong field type", "/api/v1/login", json, text(`{"email":1,"password":"x"}`),
			400, "invalid_input"},
		{"code as a number", "/api/v1/login/totp", json, text(`{"code":123456}`),
			400, "invalid_input"},
		{"unknown field", "/api/v1/signup", json,
			text(`{"email":"a@b.co","password":"long enough","admin":true}`), 400, "invalid_input"},
		{"trailing object", "/api/v1/login", json, text(`{"email":"a@b.co"}{}`),
			400, "invalid_input"},
		{"trailing garbage", "/api/v1/login", json, text(`{"email":"a@b.co"} x`),
			400, "invalid_input"},
		{"empty body", "/api/v1/login", json, text(``), 400, "invalid_input"},
		{"deep nesting", "/api/v1/login", json, text(strings.Repeat("[", 20000)),
			400, "invalid_input"},
		{"no content type", "/api/v1/login", http.Header{}, text(`{}`), 400, "invalid_input"},
		{"text/plain", "/api/v1/login", http.Header{"Content-Type": {"text/plain"}}, text(`{}`),
			400, "invalid_input"},
		{"form", "/api/v1/login",
			http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
			text(`email=a%40b.co&password=x`), 400, "invalid_input"},
		{"bad media type", "/api/v1/login", http.Header{"Content-Type": {"application/json;;"}},
			text(`{}`), 400, "invalid_input"},
		{"json with charset", "/api/v1/login",
			http.Header{"Content-Type": {"application/json; charset=utf-8"}},
			text(`{"email":"a@b.co","password":"wrong password"}`), 401, "invalid_credentials"},
		{"trailing space is fine", "/api/v1/login", json,
			text("{\"email\":\"a@b.co\",\"password\":\"wrong password\"}\n \n"),
			401, "invalid_credentials"},
		{"2 MB with length", "/api/v1/login", json,
			func() io.Reader { return bytes.NewReader([]byte(big)) }, 413, "request_too_large"},
		{"2 MB chunked", "/api/v1/login", json,
			func() io.Reader { return io.MultiReader(strings.NewReader(big)) }, 413,
			"request_too_large"},
		{"2 MB inside a field", "/api/v1/signup", json, func() io.Reader {
			return io.MultiReader(strings.NewReader(`{"email":"` + big + `"}`))
		}, 413, "request_too_large"},
		{"huge code", "/api/v1/login/totp", json,
			text(`{"code":"` + strings.Repeat("7", 60000) + `"}`), 401, "unauthenticated"},
	}
	e := newEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.client()
			got := c.raw("POST", tt.path, tt.header, tt.body())
			got.want(t, tt.status, tt.code)
			c.call("POST", "/api/v1/logout", nil).want(t, http.StatusNoContent, "")
		})
	}
}

func text(s string) func() io.Reader {
	return func() io.Reader { return strings.NewReader(s) }
}
