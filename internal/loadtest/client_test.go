package loadtest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCheckLoopback(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8080", true},
		{"https://127.0.0.1", true},
		{"http://127.5.6.7:80", true},
		{"http://[::1]:8080", true},
		{"http://localhost:8080", false},
		{"http://10.0.0.1:8080", false},
		{"http://192.0.2.1", false},
		{"http://example.com", false},
		{"http://[::ffff:192.0.2.1]:80", false},
		{"ftp://127.0.0.1", false},
		{"127.0.0.1:8080", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			err := CheckLoopback(tt.url)
			if got := err == nil; got != tt.ok {
				t.Errorf("CheckLoopback(%q): got error %v, want ok %v", tt.url, err, tt.ok)
			}
			_, err = NewClient(tt.url, 1)
			if got := err == nil; got != tt.ok {
				t.Errorf("NewClient(%q): got error %v, want ok %v", tt.url, err, tt.ok)
			}
		})
	}
}

func TestClientIP(t *testing.T) {
	tests := []struct {
		k    int
		want string
	}{
		{0, "198.18.0.0"},
		{1, "198.18.0.1"},
		{256, "198.18.1.0"},
		{65535, "198.18.255.255"},
		{65536, "198.19.0.0"},
		{131071, "198.19.255.255"},
		{131072, "198.18.0.0"}, // the range has 2^17 addresses, then repeats
	}
	for _, tt := range tests {
		if got := ClientIP(tt.k); got != tt.want {
			t.Errorf("ClientIP(%d): got %s, want %s", tt.k, got, tt.want)
		}
	}
}

// fakeServer answers the three requests a Client sends, the way
// clientarea does, and remembers what it was sent.
type fakeServer struct {
	t   *testing.T
	got []string
	srv *httptest.Server
}

func newFakeServer(t *testing.T) *fakeServer {
	t.Helper()
	f := &fakeServer{t: t}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/login", func(w http.ResponseWriter, r *http.Request) {
		var in map[string]string
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		f.got = append(f.got, "login "+in["email"]+" "+in["password"]+" "+
			r.Header.Get("X-Forwarded-For")+" "+r.Header.Get("Content-Type"))
		if in["password"] != Password {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "half-1"})
		w.Write([]byte(`{"status":"second_factor_required"}`))
	})
	mux.HandleFunc("POST /api/v1/login/totp", func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie(SessionCookie)
		var in map[string]string
		json.NewDecoder(r.Body).Decode(&in)
		if err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		f.got = append(f.got, "totp "+ck.Value+" "+in["code"]+" "+r.Header.Get("X-Forwarded-For"))
		http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "full-1"})
		w.Write([]byte(`{"status":"signed_in"}`))
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie(SessionCookie)
		if err == nil {
			f.got = append(f.got, "get "+ck.Value)
		}
		w.Write([]byte("ok\n"))
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func TestClient(t *testing.T) {
	f := newFakeServer(t)
	c, err := NewClient(f.srv.URL, 2)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	defer c.Close()
	ctx := t.Context()

	r, err := c.Login(ctx, "a@example.com", Password, "198.18.0.1")
	if err != nil || r.Status != 200 || r.Session != "half-1" ||
		!strings.Contains(r.Body, "second_factor_required") {
		t.Fatalf("Login: got %+v, %v; want 200, session half-1, second_factor_required", r, err)
	}
	r, err = c.SecondFactor(ctx, r.Session, "012345", "198.18.0.1")
	if err != nil || r.Status != 200 || r.Session != "full-1" {
		t.Fatalf("SecondFactor: got %+v, %v; want 200 and session full-1", r, err)
	}
	r, err = c.Login(ctx, "a@example.com", WrongPassword, "")
	if err != nil || r.Status != 401 || r.Session != "" {
		t.Fatalf("Login with a wrong password: got %+v, %v; want 401, no session", r, err)
	}
	if r, err := c.Get(ctx, "/healthz", "full-1"); err != nil || r.Status != 200 {
		t.Fatalf("Get: got %+v, %v; want 200", r, err)
	}
	want := []string{
		"login a@example.com " + Password + " 198.18.0.1 application/json",
		"totp half-1 012345 198.18.0.1",
		"login a@example.com " + WrongPassword + "  application/json",
		"get full-1",
	}
	if strings.Join(f.got, "\n") != strings.Join(want, "\n") {
		t.Errorf("server saw:\n%s\nwant:\n%s", strings.Join(f.got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := c.SecondFactor(ctx, "half-1", "12345", ""); err == nil {
		t.Errorf("SecondFactor with a five-digit code: got no error")
	}
}
