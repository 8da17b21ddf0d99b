package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// SessionCookie is the cookie clientarea keeps its session id in.
const SessionCookie = "clientarea_session"

// CheckLoopback returns an error unless raw is an http or https URL whose
// host is a literal loopback address (127.0.0.0/8 or ::1). Host names,
// localhost included, are refused: a name could resolve elsewhere.
func CheckLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("loadtest: target: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("loadtest: target: scheme %q, want http or https", u.Scheme)
	}
	a, err := netip.ParseAddr(u.Hostname())
	if err != nil || !a.Unmap().IsLoopback() {
		return fmt.Errorf("loadtest: target %q: only 127.0.0.1 or ::1 may be loaded", u.Host)
	}
	return nil
}

// Client sends clientarea's sign-in requests to one server on loopback.
// It keeps no cookies of its own: every call names the session it uses,
// so that one Client serves thousands of simulated customers.
type Client struct {
	base string
	hc   *http.Client
}

// NewClient returns a Client for the server at base (such as
// http://127.0.0.1:8080) that keeps up to conns connections open.
func NewClient(base string, conns int) (*Client, error) {
	if err := CheckLoopback(base); err != nil {
		return nil, err
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		// No proxy from the environment: the load must reach the server
		// itself, and nothing may leave the machine.
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			ap, err := netip.ParseAddrPort(addr)
			if err != nil || !ap.Addr().Unmap().IsLoopback() {
				return nil, fmt.Errorf("loadtest: refusing to dial %s", addr)
			}
			return dialer.DialContext(ctx, network, addr)
		},
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	hc := &http.Client{Transport: tr, Timeout: 2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &Client{base: strings.TrimRight(base, "/"), hc: hc}, nil
}

// Close closes the idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// Reply is what a request got back: its status and, when the server set
// one, the new session id.
type Reply struct {
	Status  int
	Session string
	// Body is the start of the body; only Login keeps it, to tell a full
	// sign-in from a half one.
	Body string
}

// Login sends an e-mail and password to POST /api/v1/login. ip, when not
// empty, goes in X-Forwarded-For.
func (c *Client) Login(ctx context.Context, email, password, ip string) (Reply, error) {
	body, err := json.Marshal(struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}{email, password})
	if err != nil {
		return Reply{}, err
	}
	return c.do(ctx, http.MethodPost, "/api/v1/login", "", ip, body, true)
}

// SecondFactor sends a TOTP code for the half-signed-in session to
// POST /api/v1/login/totp.
func (c *Client) SecondFactor(ctx context.Context, session, code, ip string) (Reply, error) {
	body := []byte(`{"code":"` + code + `"}`)
	if len(code) != 6 {
		return Reply{}, errors.New("loadtest: second factor: a code has six digits")
	}
	return c.do(ctx, http.MethodPost, "/api/v1/login/totp", session, ip, body, false)
}

// Get fetches path, with the session's cookie when session is not empty.
func (c *Client) Get(ctx context.Context, path, session string) (Reply, error) {
	return c.do(ctx, http.MethodGet, path, session, "", nil, false)
}

func (c *Client) do(ctx context.Context, method, path, session, ip string, body []byte,
	keepBody bool) (Reply, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return Reply{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if session != "" {
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: session})
	}
	if ip != "" {
		req.Header.Set("X-Forwarded-For", ip)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return Reply{}, err
	}
	defer resp.Body.Close()
	r := Reply{Status: resp.StatusCode}
	if keepBody {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
		r.Body = string(b)
	}
	// Reading to the end lets the connection be used again.
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return r, err
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == SessionCookie && ck.MaxAge >= 0 {
			r.Session = ck.Value
		}
	}
	return r, nil
}

// ClientIP is the address simulated customer k signs in from, in the
// benchmarking range 198.18.0.0/15 (RFC 2544), which is no one's real
// address. Spreading customers over addresses keeps the per-address
// password throttle from deciding what a test of many customers measures.
func ClientIP(k int) string {
	k = k & (1<<17 - 1)
	return fmt.Sprintf("198.%d.%d.%d", 18+k>>16, k>>8&0xff, k&0xff)
}
