// Package web is clientarea's HTTP layer: the customer's pages and the JSON
// API over the same *auth.Service. Every rule of signing in lives in the
// service; this package only reads requests, calls the service, and maps
// its results to answers, cookies and status codes.
package web

import (
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/clientarea/clientarea/internal/auth"
	"github.com/clientarea/clientarea/internal/i18n"
)

// SessionCookie is the name of the cookie that carries the session id.
const SessionCookie = "clientarea_session"

// DeviceCookie holds the device token of an earlier correct password.
const DeviceCookie = "clientarea_device"

// DefaultMaxBodyBytes bounds request bodies when Config.MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 64 << 10

// maxUserAgent bounds the user agent kept in Meta; the service truncates
// again, this only keeps a huge header from being copied around.
const maxUserAgent = 512

// HTTPMetrics observes finished requests. Route is the ServeMux pattern
// that matched ("POST /api/v1/login"), or "unmatched", never the raw path,
// so that the number of label values stays bounded.
type HTTPMetrics interface {
	ObserveRequest(route string, status int, d time.Duration)
}

// Config is everything a Server needs. Service is required.
type Config struct {
	Service *auth.Service
	// Logger receives one line per request and the causes of internal
	// errors. Nil discards.
	Logger *slog.Logger
	// Metrics is optional.
	Metrics HTTPMetrics
	// SecureCookies marks the session cookie Secure also on plain-HTTP
	// requests, for a server behind a proxy that terminates TLS.
	SecureCookies bool
	// TrustedProxies are the peers whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// MaxBodyBytes bounds every request body (default 64 KiB).
	MaxBodyBytes int64
	// Now is the clock for request durations (default time.Now).
	Now func() time.Time
	// Rand is the source of request ids (default crypto/rand).
	Rand io.Reader
}

// Server serves the pages and the API. It is safe for concurrent use.
type Server struct {
	svc     *auth.Service
	log     *slog.Logger
	metrics HTTPMetrics
	secure  bool
	proxies []netip.Prefix
	maxBody int64
	now     func() time.Time
	rand    io.Reader
	// mux routes requests; pages ask it which addresses a GET can open.
	mux *http.ServeMux
	// cat is the message catalogue, shared by the pages and the key file.
	cat     *i18n.Catalogue
	handler http.Handler
}

// New checks cfg, fills in its defaults and builds the handler.
func New(cfg Config) (*Server, error) {
	if cfg.Service == nil {
		return nil, errors.New("web: new server: a service is required")
	}
	s := &Server{svc: cfg.Service, log: cfg.Logger, metrics: cfg.Metrics,
		secure: cfg.SecureCookies, proxies: cfg.TrustedProxies, maxBody: cfg.MaxBodyBytes,
		now: cfg.Now, rand: cfg.Rand}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	p, err := newPages(s)
	if err != nil {
		return nil, err
	}
	s.cat = p.cat
	s.mux = s.routes(p)
	s.handler = s.chain(s.mux)
	return s, nil
}

// Handler returns the whole client area: routes wrapped in the middleware.
func (s *Server) Handler() http.Handler { return s.handler }

// meta describes r for the security log: the client's address, its user
// agent, and the hash of its session id when it has one.
func (s *Server) meta(r *http.Request) auth.Meta {
	m := auth.Meta{IP: s.clientIP(r), UserAgent: r.UserAgent()}
	if len(m.UserAgent) > maxUserAgent {
		m.UserAgent = m.UserAgent[:maxUserAgent]
	}
	if token := s.sessionToken(r); token != "" {
		m.Session = auth.HashToken(token)
	}
	if c, err := r.Cookie(DeviceCookie); err == nil && len(c.Value) <= 64 {
		m.Device = c.Value
	}
	return m
}

// rememberDevice keeps the device token of a correct password for a year:
// with it, this browser's sign-ins have a password budget of their own,
// which a guesser elsewhere cannot use up.
func (s *Server) rememberDevice(w http.ResponseWriter, r *http.Request, token string) {
	if token == "" {
		return
	}
	http.SetCookie(w, &http.Cookie{Name: DeviceCookie, Value: token, Path: "/",
		MaxAge: 365 * 24 * 60 * 60, HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.secure || r.TLS != nil})
}

// setSession hands the browser a session id. HttpOnly keeps it from
// scripts; SameSite=Lax keeps it off cross-site POSTs (the cross-origin
// check refuses those as well); Secure whenever the request came over TLS
// or the operator says a proxy terminates TLS.
func (s *Server) setSession(w http.ResponseWriter, r *http.Request, token string) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure || r.TLS != nil})
}

// clearSession tells the browser to drop its session cookie. It does not
// end the session on the server: call Service.Logout for that.
func (s *Server) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure})
}

// sessionToken returns the session id the request carries, or "".
func (s *Server) sessionToken(r *http.Request) string {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return ""
	}
	return c.Value
}

// clientIP returns the address of the client. X-Forwarded-For is read only
// when the direct peer is a trusted proxy, and then from the right: the
// right-most address that is not itself a trusted proxy is the one our
// own proxy saw; everything left of it was written by the client and could
// be anything, so it would let anyone pick the address that throttles key on.
func (s *Server) clientIP(r *http.Request) string {
	peer, ok := parseAddr(r.RemoteAddr)
	if !ok {
		return r.RemoteAddr
	}
	if !s.trusted(peer) {
		return peer.String()
	}
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[j]))
			if err != nil {
				// A hop we trust wrote garbage: it is the last address we know.
				return peer.String()
			}
			peer = a.Unmap()
			if !s.trusted(peer) {
				return peer.String()
			}
		}
	}
	return peer.String()
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseAddr reads the address of a RemoteAddr ("1.2.3.4:5678", "[::1]:80").
func parseAddr(remote string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}
