package web

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/clientarea/clientarea/internal/auth"
	"github.com/clientarea/clientarea/internal/i18n"
)

// The data of the pages before sign-in. Next is the local page to go to
// afterwards, already checked by safeNext ("" for home).
type (
	credentialsPage struct{ Email, Next string }
	codePage        struct{ Next string }
	supportPage     struct{ Message string }
	tokenPage       struct{ Token string }
	recoveredPage   struct {
		CodesLeft int
		Next      string
	}
)

// nextParam is next when it is safe and leads somewhere else than home,
// else "": the value pages carry along in links and hidden fields.
func nextParam(next string) string {
	if next = safeNext(next); next == "/" {
		return ""
	}
	return next
}

// parseForm reads a posted form. A body over the limit answers 413 and a
// malformed one 400, both through the error funnel.
func (p *pages) parseForm(w http.ResponseWriter, r *http.Request) bool {
	err := r.ParseForm()
	if err == nil {
		return true
	}
	var tooLarge *http.MaxBytesError
	if !errors.As(err, &tooLarge) {
		err = auth.Errorf(auth.CodeInvalidInput, "the form could not be read")
	}
	p.failPage(w, r, nil, err)
	return false
}

// signedIn reports whether r comes from a fully signed-in browser.
func (p *pages) signedIn(r *http.Request) bool {
	sess, _, err := p.s.svc.Authenticate(r.Context(), p.s.sessionToken(r))
	return err == nil && sess.Stage == auth.StageFull
}

func (p *pages) signupForm(w http.ResponseWriter, r *http.Request) {
	if p.signedIn(r) {
		redirect(w, r, "/")
		return
	}
	v := p.newView(r, nil)
	v.Page = credentialsPage{}
	p.render(w, r, http.StatusOK, "signup", v)
}

// signup answers alike for a new and a registered address: both are sent
// to sign in, and the service e-mails the owner of a registered one.
func (p *pages) signup(w http.ResponseWriter, r *http.Request) {
	if !p.parseForm(w, r) {
		return
	}
	email, pw := r.PostFormValue("email"), r.PostFormValue("password")
	v := p.newView(r, nil)
	v.Page = credentialsPage{Email: email}
	if !p.checkNewAccount(v, email, "email", pw, "password") {
		p.render(w, r, http.StatusBadRequest, "signup", v)
		return
	}
	if err := p.s.svc.SignUp(r.Context(), email, pw, p.s.meta(r)); err != nil {
		p.render(w, r, p.formError(w, r, v, err, i18n.ContextSignUp, ""), "signup", v)
		return
	}
	redirect(w, r, "/login?notice=signed_up")
}

// checkNewAccount applies the service's own rules for an e-mail address
// and a new password before calling it, so that each message lands on
// its field. An empty emailField skips the address.
func (p *pages) checkNewAccount(v *view, email, emailField, pw, pwField string) bool {
	if emailField != "" {
		if _, err := auth.NormalizeEmail(email); err != nil {
			v.Fields[emailField] = v.L.T("error.email_invalid")
		}
	}
	if err := auth.CheckPassword(pw); err != nil {
		v.Fields[pwField] = v.L.T("error.password_length",
			"min", auth.MinPasswordLen, "max", auth.MaxPasswordLen)
	}
	return len(v.Fields) == 0
}

func (p *pages) loginForm(w http.ResponseWriter, r *http.Request) {
	next := nextParam(r.URL.Query().Get("next"))
	if p.signedIn(r) {
		redirect(w, r, safeNext(next))
		return
	}
	v := p.newView(r, nil)
	v.Page = credentialsPage{Next: next}
	p.render(w, r, http.StatusOK, "login", v)
}

func (p *pages) login(w http.ResponseWriter, r *http.Request) {
	if !p.parseForm(w, r) {
		return
	}
	email, next := r.PostFormValue("email"), nextParam(r.PostFormValue("next"))
	v := p.newView(r, nil)
	v.Page = credentialsPage{Email: email, Next: next}
	res, err := p.s.svc.Login(r.Context(), email, r.PostFormValue("password"), p.s.meta(r))
	if err != nil {
		p.render(w, r, p.formError(w, r, v, err, i18n.ContextSignIn, "password"), "login", v)
		return
	}
	p.s.endReplaced(r)
	p.s.setSession(w, r, res.Token)
	p.s.rememberDevice(w, r, res.Device)
	// Only a full sign-in may change the account: the password alone must
	// not decide the language of the customer's security e-mails.
	if !res.SecondFactor {
		p.followLang(r, res.Account, v.L.Lang())
	}
	if res.SecondFactor {
		redirect(w, r, withNext("/login/code", next))
		return
	}
	redirect(w, r, safeNext(next))
}

// followLang stores the language of the pages in the account at sign-in,
// so that e-mails come in the language the customer last read.
func (p *pages) followLang(r *http.Request, a auth.Account, lang i18n.Lang) {
	if a.Lang == string(lang) {
		return
	}
	if err := p.s.svc.SetLang(r.Context(), a, string(lang)); err != nil {
		p.s.logCause(r, slog.LevelWarn, err)
	}
}

// half lets only a browser between the password and the second factor in.
// A fully signed-in one goes on to next; one whose half sign-in expired
// (it lasts minutes) starts again with a word of explanation.
func (p *pages) half(w http.ResponseWriter, r *http.Request, next string) (auth.Account, bool) {
	token := p.s.sessionToken(r)
	sess, a, err := p.s.svc.Authenticate(r.Context(), token)
	switch {
	case err == nil && sess.Stage == auth.StagePassword:
		return a, true
	case err == nil:
		redirect(w, r, safeNext(next))
	case auth.ErrorCode(err) != auth.CodeUnauthenticated:
		p.failPage(w, r, nil, err)
	case token != "":
		redirect(w, r, withNext("/login", next)+noticeParam(next, "expired"))
	default:
		redirect(w, r, withNext("/login", next))
	}
	return auth.Account{}, false
}

// noticeParam adds a notice to an address made by withNext.
func noticeParam(next, notice string) string {
	if nextParam(next) == "" {
		return "?notice=" + notice
	}
	return "&notice=" + notice
}

func (p *pages) codeForm(w http.ResponseWriter, r *http.Request) {
	next := nextParam(r.URL.Query().Get("next"))
	if _, ok := p.half(w, r, next); !ok {
		return
	}
	v := p.newView(r, nil)
	v.Page = codePage{Next: next}
	p.render(w, r, http.StatusOK, "login_code", v)
}

// code completes sign-in with a code from the authenticator app. Wrong
// codes are counted and throttled per account by the service.
func (p *pages) code(w http.ResponseWriter, r *http.Request) {
	if !p.parseForm(w, r) {
		return
	}
	next := nextParam(r.PostFormValue("next"))
	token, err := p.s.svc.SecondFactor(r.Context(), p.s.sessionToken(r),
		r.PostFormValue("code"), p.s.meta(r))
	if err == nil {
		p.s.setSession(w, r, token)
		redirect(w, r, safeNext(next))
		return
	}
	if p.halfGone(w, r, err, next) {
		return
	}
	v := p.newView(r, nil)
	v.Page = codePage{Next: next}
	p.render(w, r, p.formError(w, r, v, err, i18n.ContextCode, "code"), "login_code", v)
}

// halfGone handles the two ways a second step can find its half session
// gone: it expired (back to the password), or this browser finished
// signing in meanwhile, in another tab (on to next).
func (p *pages) halfGone(w http.ResponseWriter, r *http.Request, err error, next string) bool {
	switch auth.ErrorCode(err) {
	case auth.CodeUnauthenticated:
		redirect(w, r, withNext("/login", next)+noticeParam(next, "expired"))
		return true
	case auth.CodeConflict:
		redirect(w, r, safeNext(next))
		return true
	}
	return false
}

func (p *pages) recoveryForm(w http.ResponseWriter, r *http.Request) {
	next := nextParam(r.URL.Query().Get("next"))
	if _, ok := p.half(w, r, next); !ok {
		return
	}
	v := p.newView(r, nil)
	v.Page = codePage{Next: next}
	p.render(w, r, http.StatusOK, "login_recovery", v)
}

// recovery completes sign-in with a recovery code, then shows how many
// codes are left on a page of its own, so that a reload does not post
// the spent code again.
func (p *pages) recovery(w http.ResponseWriter, r *http.Request) {
	if !p.parseForm(w, r) {
		return
	}
	next := nextParam(r.PostFormValue("next"))
	token, _, err := p.s.svc.RecoverySignIn(r.Context(), p.s.sessionToken(r),
		r.PostFormValue("code"), p.s.meta(r))
	if err == nil {
		p.s.setSession(w, r, token)
		redirect(w, r, withNext("/login/recovered", next))
		return
	}
	if p.halfGone(w, r, err, next) {
		return
	}
	v := p.newView(r, nil)
	v.Page = codePage{Next: next}
	p.render(w, r, p.formError(w, r, v, err, i18n.ContextRecovery, "recovery-code"),
		"login_recovery", v)
}

// recovered tells a customer who just used a recovery code how many are
// left, and offers new ones.
func (p *pages) recovered(w http.ResponseWriter, r *http.Request, sess auth.Session,
	a auth.Account) {
	next := nextParam(r.URL.Query().Get("next"))
	if !sess.ViaRecovery {
		redirect(w, r, safeNext(next))
		return
	}
	st, err := p.s.svc.TwoFactor(r.Context(), a)
	if err != nil {
		p.failPage(w, r, &a, err)
		return
	}
	v := p.newView(r, &a)
	v.Page = recoveredPage{CodesLeft: st.RecoveryCodesLeft, Next: safeNext(next)}
	p.render(w, r, http.StatusOK, "recovery_signed_in", v)
}

func (p *pages) supportForm(w http.ResponseWriter, r *http.Request) {
	a, ok := p.half(w, r, "")
	if !ok {
		return
	}
	if r.URL.Query().Get("sent") != "" {
		l := p.localizer(r)
		p.message(w, r, http.StatusOK, nil, message{Title: l.T("support.sent_title"),
			Paragraphs: []string{
				l.T("support.sent_text", "email", a.Email,
					"valid", l.Duration(p.s.svc.Policy().TokenLifetime)),
				l.T("support.sent_next"),
			}})
		return
	}
	v := p.newView(r, nil)
	v.Page = supportPage{}
	p.render(w, r, http.StatusOK, "login_support", v)
}

// support files the customer's request for help; it waits for the link
// e-mailed to the account's address before support sees it.
func (p *pages) support(w http.ResponseWriter, r *http.Request) {
	if !p.parseForm(w, r) {
		return
	}
	msg := r.PostFormValue("message")
	err := p.s.svc.RequestSupport(r.Context(), p.s.sessionToken(r), msg, p.s.meta(r))
	if err == nil {
		redirect(w, r, "/login/support?sent=1")
		return
	}
	if p.halfGone(w, r, err, "") {
		return
	}
	v := p.newView(r, nil)
	v.Page = supportPage{Message: msg}
	p.render(w, r, p.formError(w, r, v, err, i18n.ContextSupport, "message"), "login_support", v)
}

// confirmForm asks for a click before using the e-mailed token: mail
// scanners that open links must not confirm anything by themselves.
func (p *pages) confirmForm(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	if token == "" {
		p.badLink(w, r, "")
		return
	}
	v := p.newView(r, nil)
	v.Page = tokenPage{Token: token}
	p.render(w, r, http.StatusOK, "support_confirm", v)
}

func (p *pages) confirm(w http.ResponseWriter, r *http.Request) {
	if !p.parseForm(w, r) {
		return
	}
	err := p.s.svc.ConfirmSupport(r.Context(), r.PostFormValue("token"))
	if auth.ErrorCode(err) == auth.CodeNotFound {
		p.badLink(w, r, "")
		return
	}
	if err != nil {
		p.failPage(w, r, nil, err)
		return
	}
	l := p.localizer(r)
	p.message(w, r, http.StatusOK, nil, message{Title: l.T("confirm.done_title"),
		Paragraphs: []string{l.T("confirm.done_text")}})
}

// badLink explains an e-mailed link that is unknown, used or expired.
func (p *pages) badLink(w http.ResponseWriter, r *http.Request, again string) {
	l := p.localizer(r)
	m := message{Title: l.T("link.bad_title"), Paragraphs: []string{l.T("link.bad_text")}}
	if again != "" {
		m.Link = &link{again, l.T("link.again")}
	}
	p.message(w, r, http.StatusNotFound, nil, m)
}

func (p *pages) forgotForm(w http.ResponseWriter, r *http.Request) {
	l := p.localizer(r)
	if r.URL.Query().Get("sent") != "" {
		p.message(w, r, http.StatusOK, nil, message{Title: l.T("forgot.sent_title"),
			Paragraphs: []string{l.T("forgot.sent_text",
				"valid", l.Duration(p.s.svc.Policy().TokenLifetime))},
			Link: &link{"/login", l.T("forgot.back")}})
		return
	}
	v := p.newView(r, nil)
	v.Page = credentialsPage{}
	p.render(w, r, http.StatusOK, "password_forgot", v)
}

// forgot asks for a reset link. The answer is the same whether or not the
// address has an account.
func (p *pages) forgot(w http.ResponseWriter, r *http.Request) {
	if !p.parseForm(w, r) {
		return
	}
	email := r.PostFormValue("email")
	v := p.newView(r, nil)
	v.Page = credentialsPage{Email: email}
	if _, err := auth.NormalizeEmail(email); err != nil {
		v.Fields["email"] = v.L.T("error.email_invalid")
		p.render(w, r, http.StatusBadRequest, "password_forgot", v)
		return
	}
	if err := p.s.svc.RequestPasswordReset(r.Context(), email, p.s.meta(r)); err != nil {
		p.render(w, r, p.formError(w, r, v, err, i18n.ContextForgot, "email"),
			"password_forgot", v)
		return
	}
	redirect(w, r, "/password/forgot?sent=1")
}

func (p *pages) resetForm(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	if token == "" {
		p.badLink(w, r, "/password/forgot")
		return
	}
	v := p.newView(r, nil)
	v.Page = tokenPage{Token: token}
	p.render(w, r, http.StatusOK, "password_reset", v)
}

// reset sets a new password from an e-mailed link. It signs nobody in:
// the customer signs in as always, second factor included.
func (p *pages) reset(w http.ResponseWriter, r *http.Request) {
	if !p.parseForm(w, r) {
		return
	}
	token, pw := r.PostFormValue("token"), r.PostFormValue("password")
	v := p.newView(r, nil)
	v.Page = tokenPage{Token: token}
	if !p.checkNewAccount(v, "", "", pw, "password") {
		p.render(w, r, http.StatusBadRequest, "password_reset", v)
		return
	}
	err := p.s.svc.ResetPassword(r.Context(), token, pw, p.s.meta(r))
	if auth.ErrorCode(err) == auth.CodeNotFound {
		p.badLink(w, r, "/password/forgot")
		return
	}
	if err != nil {
		p.render(w, r, p.formError(w, r, v, err, i18n.ContextReset, "password"),
			"password_reset", v)
		return
	}
	p.s.clearSession(w)
	redirect(w, r, "/login?notice=password_reset")
}

// logout ends this browser's session, whatever its stage.
func (p *pages) logout(w http.ResponseWriter, r *http.Request) {
	if err := p.s.svc.Logout(r.Context(), p.s.sessionToken(r)); err != nil {
		p.s.logCause(r, slog.LevelError, err)
	}
	p.s.clearSession(w)
	redirect(w, r, "/login?notice=signed_out")
}

func (p *pages) logoutEverywhere(w http.ResponseWriter, r *http.Request, _ auth.Session,
	a auth.Account) {
	if err := p.s.svc.LogoutEverywhere(r.Context(), a, p.s.meta(r)); err != nil {
		p.failPage(w, r, &a, err)
		return
	}
	p.s.clearSession(w)
	redirect(w, r, "/login?notice=signed_out_everywhere")
}
