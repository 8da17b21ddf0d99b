package main

import (
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/clientarea/clientarea/internal/oathtool"
	"github.com/clientarea/clientarea/internal/storetest"
)

// TestTwoInstances runs two servers on one PostgreSQL database, as behind a
// load balancer: a code is accepted once across both, and wrong codes sent
// to either count against one limit.
func TestTwoInstances(t *testing.T) {
	dsn := storetest.NewDatabase(t, storetest.Postgres)
	key := make([]byte, 32)
	rand.Read(key)
	env := map[string]string{"CLIENTAREA_SECRET_KEY": hex.EncodeToString(key)}
	clk := storetest.NewClock(t0)
	a := startServer(t, clk, env, "--database-url", dsn)
	b := startServer(t, clk, env, "--database-url", dsn)
	secret, _, _ := enrol(t, a, a.client(t), alice)
	clk.Add(time.Minute)

	// A session made on one instance works on the other.
	ca := a.client(t)
	signIn(t, ca, alice)
	cb := &client{t: t, base: b.URL, http: ca.http}
	code := oathtool.TOTP(t, secret, clk.Now())
	cb.must(200, "POST", "/api/v1/login/totp", map[string]string{"code": code})
	ca.must(200, "GET", "/api/v1/account", nil)

	// One new code, sent at once from sessions on both instances.
	clk.Add(time.Minute)
	code = oathtool.TOTP(t, secret, clk.Now())
	var clients []*client
	for i := range 10 {
		c := a.client(t)
		if i%2 == 1 {
			c.base = b.URL
		}
		signIn(t, c, alice)
		clients = append(clients, c)
	}
	wins, statuses := sendAtOnce(clients, code)
	if wins != 1 {
		t.Fatalf("got %d sign-ins with one code on two instances, want 1 (%v)", wins, statuses)
	}

	// Five wrong codes, alternating instances, then the right one: refused.
	clk.Add(time.Minute)
	c := a.client(t)
	signIn(t, c, alice)
	for i, wrong := range wrongCodes(t, secret, clk.Now(), 5) {
		c.base = []string{a.URL, b.URL}[i%2]
		c.must(401, "POST", "/api/v1/login/totp", map[string]string{"code": wrong})
	}
	c.base = b.URL
	right := oathtool.TOTP(t, secret, clk.Now())
	status, out := c.call("POST", "/api/v1/login/totp", map[string]string{"code": right})
	if status != 429 {
		t.Fatalf("right code after five wrong ones across instances: got %d (%v), want 429", status, out)
	}
}
