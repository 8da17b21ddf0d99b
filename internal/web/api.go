package web

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/clientarea/clientarea/internal/auth"
	"github.com/clientarea/clientarea/internal/i18n"
)

// Limits of GET /api/v1/account/events.
const (
	defaultEventLimit = 50
	maxEventLimit     = 200
)

// api adapts a handler that returns an error to the error funnel.
func (s *Server) api(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.apiError(w, r, err)
		}
	})
}

// accountHandler serves a fully signed-in customer.
type accountHandler func(http.ResponseWriter, *http.Request, auth.Session, auth.Account) error

// account is api for handlers that need a full sign-in. A session that is
// only past the password gets the same 401 as no session: between the two
// steps nothing of the client area is reachable.
func (s *Server) account(h accountHandler) http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		sess, a, err := s.svc.RequireFull(r.Context(), s.sessionToken(r))
		if err != nil {
			return err
		}
		return h(w, r, sess, a)
	})
}

var errBadJSON = auth.Errorf(auth.CodeInvalidInput,
	"the body must be one JSON object with the fields of this request")

// decodeJSON reads exactly one JSON object into dst. Another content type,
// a syntax error, a field of the wrong type, an unknown field or anything
// after the object is invalid input; a body past the limit stays a
// *http.MaxBytesError so that it answers 413.
func decodeJSON(r *http.Request, dst any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return auth.Errorf(auth.CodeInvalidInput, "send the body as application/json")
	}
	// Anything but one object is refused before it is decoded: null, in
	// particular, decodes into dst as if every field had been left out.
	body := bufio.NewReader(r.Body)
	if first, err := firstNonSpace(body); err != nil || first != '{' {
		return jsonError(r, err)
	}
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(r, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return jsonError(r, err)
	}
	return nil
}

// firstNonSpace returns the first byte after JSON's white space, and
// leaves it unread.
func firstNonSpace(r *bufio.Reader) (byte, error) {
	for {
		b, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		switch b {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return b, r.UnreadByte()
	}
}

// jsonError reads on to the body's limit, so that a body over the limit
// answers 413 whatever its first bytes: the body limit sets how much is
// read, so this costs little.
func jsonError(r *http.Request, err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return err
	}
	if _, err := io.Copy(io.Discard, r.Body); errors.As(err, &tooLarge) {
		return err
	}
	return errBadJSON
}

// status is the body of answers that only say how things stand.
type status struct {
	Status string `json:"status"`
}

func noContent(w http.ResponseWriter) error {
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type credentials struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// signup answers the same for a new and a registered address; the service
// e-mails the owner of a registered one.
func (s *Server) signup(w http.ResponseWriter, r *http.Request) error {
	var in credentials
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.svc.SignUp(r.Context(), in.Email, in.Password, s.meta(r)); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, status{"created"})
	return nil
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var in credentials
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	res, err := s.svc.Login(r.Context(), in.Email, in.Password, s.meta(r))
	if err != nil {
		return err
	}
	s.endReplaced(r)
	s.setSession(w, r, res.Token)
	s.rememberDevice(w, r, res.Device)
	if res.SecondFactor {
		writeJSON(w, http.StatusOK, status{"second_factor_required"})
		return nil
	}
	writeJSON(w, http.StatusOK, status{"signed_in"})
	return nil
}

// endReplaced ends the session whose cookie a new sign-in overwrites: the
// browser forgets it, so nobody should still be able to use it.
func (s *Server) endReplaced(r *http.Request) {
	if err := s.svc.Logout(r.Context(), s.sessionToken(r)); err != nil {
		s.logCause(r, slog.LevelWarn, err)
	}
}

type codeInput struct {
	Code string `json:"code"`
}

func (s *Server) loginTOTP(w http.ResponseWriter, r *http.Request) error {
	var in codeInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	token, err := s.svc.SecondFactor(r.Context(), s.sessionToken(r), in.Code, s.meta(r))
	if err != nil {
		return err
	}
	s.setSession(w, r, token)
	writeJSON(w, http.StatusOK, status{"signed_in"})
	return nil
}

func (s *Server) loginRecovery(w http.ResponseWriter, r *http.Request) error {
	var in codeInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	token, left, err := s.svc.RecoverySignIn(r.Context(), s.sessionToken(r), in.Code, s.meta(r))
	if err != nil {
		return err
	}
	s.setSession(w, r, token)
	writeJSON(w, http.StatusOK, struct {
		Status string `json:"status"`
		Left   int    `json:"recovery_codes_left"`
	}{"signed_in", left})
	return nil
}

// loginSupport asks support for help from the code step. The service
// e-mails a confirmation link; the request joins the queue once confirmed.
func (s *Server) loginSupport(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Message string `json:"message"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	err := s.svc.RequestSupport(r.Context(), s.sessionToken(r), in.Message, s.meta(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, status{"accepted"})
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.Logout(r.Context(), s.sessionToken(r)); err != nil {
		return err
	}
	s.clearSession(w)
	return noContent(w)
}

func (s *Server) logoutEverywhere(w http.ResponseWriter, r *http.Request, _ auth.Session,
	a auth.Account) error {
	if err := s.svc.LogoutEverywhere(r.Context(), a, s.meta(r)); err != nil {
		return err
	}
	s.clearSession(w)
	return noContent(w)
}

// forgotPassword answers 202 whether or not the address has an account.
func (s *Server) forgotPassword(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Email string `json:"email"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.svc.RequestPasswordReset(r.Context(), in.Email, s.meta(r)); err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, status{"accepted"})
	return nil
}

// resetPassword sets a new password and signs nobody in: with 2FA on, the
// next sign-in still asks for the second factor.
func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Token    string `json:"token"`
		Password string `json:"password"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.svc.ResetPassword(r.Context(), in.Token, in.Password, s.meta(r)); err != nil {
		return err
	}
	s.clearSession(w)
	return noContent(w)
}

type accountView struct {
	Email     string        `json:"email"`
	Role      auth.Role     `json:"role"`
	TwoFactor twoFactorView `json:"two_factor"`
}

type twoFactorView struct {
	Enabled           bool `json:"enabled"`
	Pending           bool `json:"pending"`
	RecoveryCodesLeft int  `json:"recovery_codes_left"`
}

func (s *Server) getAccount(w http.ResponseWriter, r *http.Request, _ auth.Session,
	a auth.Account) error {
	st, err := s.svc.TwoFactor(r.Context(), a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, accountView{Email: a.Email, Role: a.Role,
		TwoFactor: twoFactorView{Enabled: st.Enabled, Pending: st.Pending,
			RecoveryCodesLeft: st.RecoveryCodesLeft}})
	return nil
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, _ auth.Session,
	a auth.Account) error {
	var in struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	// meta carries this session's hash: the service ends every other one.
	if err := s.svc.ChangePassword(r.Context(), a, in.Current, in.New, s.meta(r)); err != nil {
		return err
	}
	return noContent(w)
}

type eventView struct {
	ID        int64          `json:"id"`
	Kind      auth.EventKind `json:"kind"`
	At        string         `json:"at"`
	IP        string         `json:"ip"`
	UserAgent string         `json:"user_agent"`
	Detail    string         `json:"detail"`
}

// events pages through the security log, newest first. The cursor is the
// id of the last event shown; "next" is empty on the last page.
func (s *Server) events(w http.ResponseWriter, r *http.Request, _ auth.Session,
	a auth.Account) error {
	limit, before, err := pageParams(r)
	if err != nil {
		return err
	}
	// One event more than asked tells whether another page exists.
	es, err := s.svc.Events(r.Context(), a.ID, before, limit+1)
	if err != nil {
		return err
	}
	next := ""
	if len(es) > limit {
		es = es[:limit]
		next = strconv.FormatInt(es[limit-1].ID, 10)
	}
	out := make([]eventView, len(es))
	for i, e := range es {
		out[i] = eventView{ID: e.ID, Kind: e.Kind, At: e.At.UTC().Format(time.RFC3339),
			IP: e.IP, UserAgent: e.UserAgent, Detail: e.Detail}
	}
	writeJSON(w, http.StatusOK, struct {
		Events []eventView `json:"events"`
		Next   string      `json:"next"`
	}{out, next})
	return nil
}

func pageParams(r *http.Request) (limit int, before int64, err error) {
	q := r.URL.Query()
	limit = defaultEventLimit
	if v := q.Get("limit"); v != "" || q.Has("limit") {
		limit, err = strconv.Atoi(v)
		if err != nil || limit < 1 || limit > maxEventLimit {
			return 0, 0, auth.Errorf(auth.CodeInvalidInput,
				"limit must be a whole number from 1 to %d", maxEventLimit)
		}
	}
	if v := q.Get("before"); v != "" || q.Has("before") {
		before, err = strconv.ParseInt(v, 10, 64)
		if err != nil || before < 1 {
			return 0, 0, auth.Errorf(auth.CodeInvalidInput, "before must be a cursor from next")
		}
	}
	return limit, before, nil
}

type enrolmentView struct {
	Issuer      string `json:"issuer"`
	AccountName string `json:"account_name"`
	Secret      string `json:"secret"`
	URI         string `json:"otpauth_uri"`
	NewDevice   bool   `json:"new_device"`
}

// beginSetup returns the pending secret, the same one on every call until
// it is confirmed or cancelled.
func (s *Server) beginSetup(w http.ResponseWriter, r *http.Request, sess auth.Session,
	a auth.Account) error {
	e, err := s.svc.BeginEnrolment(r.Context(), sess, a)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, enrolmentView{Issuer: e.Issuer, AccountName: e.AccountName,
		Secret: e.Secret, URI: e.URI, NewDevice: e.NewDevice})
	return nil
}

func (s *Server) cancelSetup(w http.ResponseWriter, r *http.Request, _ auth.Session,
	a auth.Account) error {
	if err := s.svc.CancelEnrolment(r.Context(), a); err != nil {
		return err
	}
	return noContent(w)
}

// setupQR serves the QR code of the pending key URI; after activation
// there is none (404).
func (s *Server) setupQR(w http.ResponseWriter, r *http.Request, _ auth.Session,
	a auth.Account) error {
	e, err := s.svc.PendingEnrolment(r.Context(), a)
	if err != nil {
		return err
	}
	png, err := qrPNG(e.URI)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Content-Length", strconv.Itoa(len(png)))
	w.Write(png)
	return nil
}

// setupKey serves the Save key file of the pending enrolment, in the
// language of the page that offers it or, through the API, in the
// account's own.
func (s *Server) setupKey(w http.ResponseWriter, r *http.Request, _ auth.Session,
	a auth.Account) error {
	e, err := s.svc.PendingEnrolment(r.Context(), a)
	if err != nil {
		return err
	}
	body := keyFile(s.keyFileLocalizer(r, a), e)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+keyFileName(e.Issuer)+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
	return nil
}

// keyFileLocalizer is the page's Localizer when a page serves the key
// file, else one for the language stored in the account: an API client
// sends no cookie and maybe no Accept-Language, and the account's
// language is the one its e-mails already use.
func (s *Server) keyFileLocalizer(r *http.Request, a auth.Account) i18n.Localizer {
	if l, ok := pageLocalizer(r.Context()); ok {
		return l
	}
	lang, ok := i18n.ParseLang(a.Lang)
	if !ok {
		lang = i18n.English
	}
	return s.cat.Localizer(lang)
}

type codesView struct {
	Status        string   `json:"status,omitempty"`
	RecoveryCodes []string `json:"recovery_codes"`
}

// enable turns 2FA on. The recovery codes of a first enrolment come back
// once more here; a new device keeps the account's codes, so the list is
// empty.
func (s *Server) enable(w http.ResponseWriter, r *http.Request, _ auth.Session,
	a auth.Account) error {
	var in codeInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	codes, err := s.svc.ConfirmEnrolment(r.Context(), a, in.Code, s.meta(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, codesView{Status: "enabled", RecoveryCodes: nonNil(codes)})
	return nil
}

func (s *Server) disable(w http.ResponseWriter, r *http.Request, _ auth.Session,
	a auth.Account) error {
	var in struct {
		Password string `json:"password"`
		Code     string `json:"code"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	err := s.svc.DisableTwoFactor(r.Context(), a, in.Password, in.Code, s.meta(r))
	if err != nil {
		return err
	}
	return noContent(w)
}

func (s *Server) regenerateCodes(w http.ResponseWriter, r *http.Request, _ auth.Session,
	a auth.Account) error {
	var in codeInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	codes, err := s.svc.RegenerateRecoveryCodes(r.Context(), a, in.Code, s.meta(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, codesView{RecoveryCodes: nonNil(codes)})
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
