package web

import (
	"net/http"
	"sync"
	"testing"

	"github.com/clientarea/clientarea/internal/oathtool"
)

// TestOneCodeManySessions is field case C12 through HTTP: 50 half-signed-in
// sessions send one valid code at once, and exactly one signs in.
func TestOneCodeManySessions(t *testing.T) {
	oathtool.Require(t)
	const n = 50
	f := withTwoFactor(newEnv(t))
	clients := make([]*client, n)
	for i := range clients {
		clients[i] = f.e.client()
		got := clients[i].call("POST", "/api/v1/login", creds(alice, testPassword))
		if s := got.json(t)["status"]; s != "second_factor_required" {
			t.Fatalf("client %d: got %v, want second_factor_required", i, s)
		}
	}
	code := f.code()

	statuses := make([]int, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			<-start
			got := c.call("POST", "/api/v1/login/totp", map[string]string{"code": code})
			statuses[i] = got.status
		})
	}
	close(start)
	wg.Wait()

	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	if count[http.StatusOK] != 1 {
		t.Fatalf("got statuses %v, want exactly one 200", count)
	}
	for s := range count {
		if s != http.StatusOK && s != http.StatusUnauthorized && s != http.StatusTooManyRequests {
			t.Fatalf("got statuses %v, want only 200, 401 (replay) and 429 (throttle)", count)
		}
	}
}
