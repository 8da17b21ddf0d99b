package web

import (
	"net/http"

	"github.com/clientarea/clientarea/internal/auth"
)

// routes lists every route of the client area. Browser pages are
// registered by pageRoutes (pages.go); the JSON API is below. GET /healthz
// and GET /readyz belong to the operator's side and are added there.
func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	s.pageRoutes(mux)

	mux.Handle("POST /api/v1/signup", s.api(s.signup))
	mux.Handle("POST /api/v1/login", s.api(s.login))
	mux.Handle("POST /api/v1/login/totp", s.api(s.loginTOTP))
	mux.Handle("POST /api/v1/login/recovery", s.api(s.loginRecovery))
	mux.Handle("POST /api/v1/login/support", s.api(s.loginSupport))
	mux.Handle("POST /api/v1/logout", s.api(s.logout))
	mux.Handle("POST /api/v1/logout/everywhere", s.account(s.logoutEverywhere))
	mux.Handle("POST /api/v1/password/forgot", s.api(s.forgotPassword))
	mux.Handle("POST /api/v1/password/reset", s.api(s.resetPassword))

	// Everything under /api/v1/account needs a full sign-in: s.account
	// answers 401 to a session that is only past the password.
	mux.Handle("GET /api/v1/account", s.account(s.getAccount))
	mux.Handle("POST /api/v1/account/password", s.account(s.changePassword))
	mux.Handle("GET /api/v1/account/events", s.account(s.events))
	mux.Handle("POST /api/v1/account/2fa/setup", s.account(s.beginSetup))
	mux.Handle("DELETE /api/v1/account/2fa/setup", s.account(s.cancelSetup))
	mux.Handle("GET /api/v1/account/2fa/setup/qr.png", s.account(s.setupQR))
	mux.Handle("GET /api/v1/account/2fa/setup/key", s.account(s.setupKey))
	mux.Handle("POST /api/v1/account/2fa/enable", s.account(s.enable))
	mux.Handle("POST /api/v1/account/2fa/disable", s.account(s.disable))
	mux.Handle("POST /api/v1/account/2fa/recovery-codes", s.account(s.regenerateCodes))

	// Any other method or path under /api/ answers 404 in the JSON error
	// format: an API client should never have to parse ServeMux's plain
	// text. The price is that a known path with the wrong method answers
	// 404 rather than 405. The pattern has no method, so the pages must
	// not register a catch-all such as "GET /": ServeMux would panic on
	// the conflict (each pattern is narrower than the other in one way).
	mux.Handle("/api/", s.api(noEndpoint))
	return mux
}

var errNoEndpoint = auth.Errorf(auth.CodeNotFound,
	"no such endpoint: check the method and the path")

// noEndpoint answers a request that no API route matches.
func noEndpoint(http.ResponseWriter, *http.Request) error { return errNoEndpoint }
