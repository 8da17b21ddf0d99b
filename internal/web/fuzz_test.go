package web

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/clientarea/clientarea/internal/storetest"
)

// FuzzAPIRequest sends arbitrary bodies to every JSON endpoint that reads
// one, through the real handler on a real database: whatever the bytes,
// the answer is a client error or a success, never a server error.
func FuzzAPIRequest(f *testing.F) {
	paths := []string{"/api/v1/signup", "/api/v1/login", "/api/v1/login/totp",
		"/api/v1/login/recovery", "/api/v1/login/support", "/api/v1/password/forgot",
		"/api/v1/password/reset"}
	seeds := []string{`{"email":"a@example.com","password":"correct horse"}`, `{"code":"123456"}`,
		`{"code":"ABCD-EFGH-JKMN"}`, `{}`, `[]`, `null`, `{"email":1}`, `{"x":"y"}`,
		`{"code":"1"} {"code":"2"}`, `{"code":"` + string(bytes.Repeat([]byte("9"), 5000)) + `"}`,
		"{\"email\":\"\xff\xfe\"}", `{"password":"\u0000"}`, `{{{{`, ``}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	st := storetest.Open(f, storetest.SQLite)
	svc, _ := storetest.NewService(f, st, storetest.NewClock(t0).Now)
	srv, err := New(Config{Service: svc, Now: storetest.NewClock(t0).Now})
	if err != nil {
		f.Fatal(err)
	}
	h := srv.Handler()
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		path := paths[int(which)%len(paths)]
		req := httptest.NewRequest("POST", path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("POST %s with %q: got status %d: %s", path, body, rec.Code, rec.Body)
		}
	})
}
