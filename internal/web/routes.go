package web

import "net/http"

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
	return mux
}
