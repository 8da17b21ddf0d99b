package web

import (
	"net/http"

	"github.com/clientarea/clientarea/internal/auth"
)

// routes lists every route of the client area: the browser pages, then the
// JSON API. GET /healthz, GET /readyz and GET /metrics belong to the
// operator's side and are added by cmd/clientarea.
func (s *Server) routes(p *pages) *http.ServeMux {
	mux := http.NewServeMux()
	// Pages. p.full needs a full sign-in (a half-signed-in browser is sent
	// to the code step); p.admin needs the admin role with 2FA on.
	mux.HandleFunc("GET /static/", p.serveStatic)
	mux.HandleFunc("GET /favicon.ico", p.favicon)
	mux.HandleFunc("POST /lang", p.setLang)

	mux.HandleFunc("GET /signup", p.signupForm)
	mux.HandleFunc("POST /signup", p.signup)
	mux.HandleFunc("GET /login", p.loginForm)
	mux.HandleFunc("POST /login", p.login)
	mux.HandleFunc("GET /login/code", p.codeForm)
	mux.HandleFunc("POST /login/code", p.code)
	mux.HandleFunc("GET /login/recovery", p.recoveryForm)
	mux.HandleFunc("POST /login/recovery", p.recovery)
	mux.Handle("GET /login/recovered", p.full(p.recovered))
	mux.HandleFunc("GET /login/support", p.supportForm)
	mux.HandleFunc("POST /login/support", p.support)
	mux.HandleFunc("GET /support/confirm", p.confirmForm)
	mux.HandleFunc("POST /support/confirm", p.confirm)
	mux.HandleFunc("GET /password/forgot", p.forgotForm)
	mux.HandleFunc("POST /password/forgot", p.forgot)
	mux.HandleFunc("GET /password/reset", p.resetForm)
	mux.HandleFunc("POST /password/reset", p.reset)
	mux.HandleFunc("POST /logout", p.logout)
	mux.Handle("POST /logout/everywhere", p.full(p.logoutEverywhere))

	mux.Handle("GET /{$}", p.full(p.home))
	mux.Handle("POST /home/hide-2fa-tip", p.full(p.hideTip))
	mux.Handle("GET /settings", p.full(p.settings))
	mux.Handle("POST /settings/password", p.full(p.changePassword))
	mux.Handle("POST /settings/2fa/enable", p.full(p.beginSetup))
	mux.Handle("GET /settings/2fa/setup", p.full(p.setupPage))
	mux.Handle("POST /settings/2fa/setup", p.full(p.confirmSetup))
	mux.Handle("POST /settings/2fa/setup/cancel", p.full(p.cancelSetup))
	mux.Handle("GET /settings/2fa/setup/qr.png", p.full(p.download(s.setupQR)))
	mux.Handle("GET /settings/2fa/setup/key", p.full(p.download(s.setupKey)))
	mux.Handle("POST /settings/2fa/recovery-codes", p.full(p.regenerate))
	mux.Handle("POST /settings/2fa/disable", p.full(p.disable))
	mux.Handle("GET /security", p.full(p.security))

	mux.Handle("GET /admin", p.admin(p.adminHome))
	mux.Handle("GET /admin/accounts", p.admin(p.adminAccounts))
	mux.Handle("POST /admin/reset", p.admin(p.adminReset))

	// JSON API.
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
