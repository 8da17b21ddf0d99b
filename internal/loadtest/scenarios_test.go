package loadtest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// countingServer accepts a correct password and any six-digit code, and
// counts what it was sent; it stands in for clientarea to test the flows.
type countingServer struct {
	mu     sync.Mutex
	counts map[string]int
	// codes holds, per half session, the code it was completed with.
	codes map[string]string
	// probed is closed once /healthz and the page have each been served;
	// with holdForProbes, sign-ins wait for it, so that a test of the
	// flood's probes does not depend on how fast the flood is.
	probed        chan struct{}
	healthzSeen   bool
	pageSeen      bool
	holdForProbes bool
}

func newCountingServer(t *testing.T) (*countingServer, string) {
	t.Helper()
	s := &countingServer{counts: map[string]int{}, codes: map[string]string{},
		probed: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/login", func(w http.ResponseWriter, r *http.Request) {
		if s.holdForProbes {
			select {
			case <-s.probed:
			case <-r.Context().Done():
				return
			}
		}
		var in map[string]string
		json.NewDecoder(r.Body).Decode(&in)
		if in["password"] != Password {
			s.count("wrong password")
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		s.count("login")
		http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "half-" + in["email"]})
		w.Write([]byte(`{"status":"second_factor_required"}`))
	})
	mux.HandleFunc("POST /api/v1/login/totp", func(w http.ResponseWriter, r *http.Request) {
		ck, _ := r.Cookie(SessionCookie)
		var in map[string]string
		json.NewDecoder(r.Body).Decode(&in)
		s.mu.Lock()
		s.codes[ck.Value] = in["code"]
		s.mu.Unlock()
		s.count("code")
		w.Write([]byte(`{"status":"signed_in"}`))
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		s.count("healthz")
		s.seen(&s.healthzSeen)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		if ck, err := r.Cookie(SessionCookie); err == nil && ck.Value == "full" {
			s.count("page")
			s.seen(&s.pageSeen)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return s, srv.URL
}

func (s *countingServer) seen(probe *bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !*probe {
		*probe = true
		if s.healthzSeen && s.pageSeen {
			close(s.probed)
		}
	}
}

func (s *countingServer) count(what string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts[what]++
}

func newTarget(t *testing.T, url string, accounts int) *Target {
	t.Helper()
	c, err := NewClient(url, 8)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return &Target{Client: c, Accounts: NewAccounts([]byte("seed"), "t"),
		Pool: NewPool(accounts, time.Now, Sleep), Now: time.Now}
}

func TestSignIn(t *testing.T) {
	s, url := newCountingServer(t)
	tg := newTarget(t, url, 100)
	r := tg.SignIn(t.Context(), Load{Concurrency: 4, Requests: 20, Duration: time.Minute})
	if r.OK != 20 || r.Calls != 20 || s.counts["login"] != 20 || s.counts["code"] != 20 {
		t.Fatalf("got %+v, server counts %v; want 20 whole sign-ins", r, s.counts)
	}
	// Twenty sign-ins of a hundred accounts: each a different account.
	if len(s.codes) != 20 {
		t.Errorf("got %d distinct half sessions completed, want 20", len(s.codes))
	}
	for session, code := range s.codes {
		if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
			t.Errorf("session %s: got code %q, want six digits", session, code)
		}
	}
}

func TestSecondFactorRunsOutOfSessions(t *testing.T) {
	s, url := newCountingServer(t)
	tg := newTarget(t, url, 100)
	sessions := []HalfSession{{0, "a"}, {1, "b"}, {2, "c"}}
	r := tg.SecondFactor(t.Context(), Load{Concurrency: 2, Requests: 10, Duration: time.Minute},
		sessions)
	if r.OK != 3 || r.Calls != 3 || len(s.codes) != 3 {
		t.Errorf("got %+v, codes %v; want the 3 prepared sessions used once each", r, s.codes)
	}
}

func TestFlood(t *testing.T) {
	s, url := newCountingServer(t)
	s.holdForProbes = true
	tg := newTarget(t, url, 100)
	r := tg.Flood(t.Context(), Flood{Size: 10, Session: "full", PagePath: "/",
		ProbeEvery: time.Millisecond, Limit: time.Minute})
	want := map[string]int{"200": 5, "401": 5}
	if r.SignIns.Calls != 10 || r.SignIns.Statuses["200"] != 5 || r.SignIns.Statuses["401"] != 5 {
		t.Errorf("flood statuses: got %v, want %v", r.SignIns.Statuses, want)
	}
	if r.SignIns.Concurrency != 10 {
		t.Errorf("flood concurrency: got %d, want 10", r.SignIns.Concurrency)
	}
	if r.Healthz.Calls < 1 || r.Healthz.Errors(200) != 0 || r.Page.Calls < 1 ||
		r.Page.Errors(200) != 0 {
		t.Errorf("probes: got healthz %v, page %v; want at least one 200 each",
			r.Healthz.Statuses, r.Page.Statuses)
	}
	if r.PeakRSS != 0 {
		t.Errorf("peak RSS without a server process: got %d, want 0", r.PeakRSS)
	}
}

// The wait the pool imposes, for an account's next step, is what Run
// leaves out of the latency: the calls here take no time by the shared
// clock but the pool's wait, so every latency is zero.
func TestSecondFactorLeavesPoolWaitsOut(t *testing.T) {
	_, url := newCountingServer(t)
	tg := newTarget(t, url, 1)
	var mu sync.Mutex
	now := time.Unix(1700000020, 0) // 20 s before the next step
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	tg.Now = clock
	tg.Pool = NewPool(1, clock, func(_ context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(d)
		return nil
	})
	sessions := []HalfSession{{0, "a"}, {0, "b"}} // one account: the second call waits
	r := tg.SecondFactor(t.Context(), Load{Concurrency: 1, Requests: 2, Duration: time.Minute},
		sessions)
	if r.OK != 2 || r.Waited != 1 || tg.Pool.Waits() != 1 {
		t.Fatalf("got %+v, %d pool waits; want 2 calls, one of which waited", r,
			tg.Pool.Waits())
	}
	if r.Latency.Max != 0 || r.Elapsed != Millis(20*time.Second) {
		t.Errorf("got slowest call %v over %v, want 0 over the 20s wait",
			time.Duration(r.Latency.Max), time.Duration(r.Elapsed))
	}
}
