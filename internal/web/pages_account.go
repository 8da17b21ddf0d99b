package web

import (
	"bytes"
	"fmt"
	"html/template"
	"image"
	"image/png"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/clientarea/clientarea/internal/auth"
	"github.com/clientarea/clientarea/internal/i18n"
	"github.com/clientarea/clientarea/internal/totp"
)

// lowCodes is the number of recovery codes left at which settings urges
// the customer to make new ones.
const lowCodes = 3

// eventsPerPage is the length of a page of the security log.
const eventsPerPage = 50

// The data of the signed-in pages.
type (
	homePage struct {
		TwoFactor   auth.TwoFactorStatus
		Recommend   bool
		ViaRecovery bool
		CodesLeft   int
	}
	settingsPage struct {
		TwoFactor auth.TwoFactorStatus
		Since     string
		LowCodes  bool
	}
	setupPage struct {
		Enrolment auth.Enrolment
		Grouped   string
		QRSize    int // side of the QR code image in pixels, 0 if unknown
	}
	// codesPage shows recovery codes once: after the first enrolment and
	// after making new ones.
	codesPage struct {
		Title, Lead string
		Codes       []string
		FileName    string
		Download    template.URL
		Next        string
	}
	eventsPage struct {
		Events []eventRow
		Older  string
		Paged  bool
	}
	eventRow struct {
		ISO, When, What, Detail, IP, Device string
	}
)

func (p *pages) home(w http.ResponseWriter, r *http.Request, sess auth.Session, a auth.Account) {
	st, err := p.s.svc.TwoFactor(r.Context(), a)
	if err != nil {
		p.failPage(w, r, &a, err)
		return
	}
	v := p.newView(r, &a)
	v.Page = homePage{TwoFactor: st, Recommend: !st.Enabled && !tipHidden(r, a),
		ViaRecovery: sess.ViaRecovery && st.Enabled, CodesLeft: st.RecoveryCodesLeft}
	p.render(w, r, http.StatusOK, "home", v)
}

// hideTip hides the 2FA recommendation for a while; it is a cookie, not a
// setting, so it also comes back on another device. The cookie names the
// account, so that "Not now" by one customer does not hide the tip from
// the next one who signs in with the same browser.
func (p *pages) hideTip(w http.ResponseWriter, r *http.Request, _ auth.Session, a auth.Account) {
	p.setCookie(w, r, tipCookie, strconv.FormatInt(a.ID, 10), tipHiddenFor)
	redirect(w, r, "/")
}

func tipHidden(r *http.Request, a auth.Account) bool {
	c, err := r.Cookie(tipCookie)
	return err == nil && c.Value == strconv.FormatInt(a.ID, 10)
}

func (p *pages) settings(w http.ResponseWriter, r *http.Request, _ auth.Session, a auth.Account) {
	v := p.newView(r, &a)
	p.renderSettings(w, r, http.StatusOK, v, a)
}

// renderSettings shows the settings page, also again with the errors of
// one of its forms.
func (p *pages) renderSettings(w http.ResponseWriter, r *http.Request, status int, v *view,
	a auth.Account) {
	st, err := p.s.svc.TwoFactor(r.Context(), a)
	if err != nil {
		p.failPage(w, r, &a, err)
		return
	}
	page := settingsPage{TwoFactor: st, LowCodes: st.Enabled && st.RecoveryCodesLeft <= lowCodes}
	if len(st.Devices) > 0 {
		page.Since = v.L.Date(st.Devices[0].ActivatedAt)
	}
	v.Page = page
	p.render(w, r, status, "settings", v)
}

func (p *pages) changePassword(w http.ResponseWriter, r *http.Request, _ auth.Session,
	a auth.Account) {
	if !p.parseForm(w, r) {
		return
	}
	current, next := r.PostFormValue("current_password"), r.PostFormValue("new_password")
	v := p.newView(r, &a)
	if !p.checkNewAccount(v, "", "", next, "new-password") {
		p.renderSettings(w, r, http.StatusBadRequest, v, a)
		return
	}
	err := p.s.svc.ChangePassword(r.Context(), a, current, next, p.s.meta(r))
	if err != nil {
		status := p.formError(w, r, v, err, i18n.ContextPassword, "current-password")
		p.renderSettings(w, r, status, v, a)
		return
	}
	redirect(w, r, "/settings?notice=password_changed")
}

// beginSetup starts an enrolment (a first one, or a new device) and goes
// to its page. Starting again returns the enrolment in progress.
func (p *pages) beginSetup(w http.ResponseWriter, r *http.Request, sess auth.Session, a auth.Account) {
	if _, err := p.s.svc.BeginEnrolment(r.Context(), sess, a); err != nil {
		p.failPage(w, r, &a, err)
		return
	}
	redirect(w, r, "/settings/2fa/setup")
}

// setupPage shows the enrolment in progress. Without one, a customer
// without 2FA gets one started: the home page's recommendation links
// here directly. That GET changes nothing anybody could misuse: the
// pending secret is the customer's own, shown only to this session, and
// the same one comes back on every visit until it is confirmed or
// cancelled. A new device, which replaces a working one, is only ever
// started by the settings form.
func (p *pages) setupPage(w http.ResponseWriter, r *http.Request, sess auth.Session, a auth.Account) {
	e, err := p.enrolment(r, sess, a)
	if err != nil {
		p.setupGone(w, r, a, err)
		return
	}
	p.renderSetup(w, r, http.StatusOK, p.newView(r, &a), e)
}

func (p *pages) enrolment(r *http.Request, sess auth.Session, a auth.Account) (auth.Enrolment, error) {
	e, err := p.s.svc.PendingEnrolment(r.Context(), a)
	if auth.ErrorCode(err) != auth.CodeNotFound {
		return e, err
	}
	st, err := p.s.svc.TwoFactor(r.Context(), a)
	if err != nil {
		return auth.Enrolment{}, err
	}
	if st.Enabled {
		return auth.Enrolment{}, auth.Errorf(auth.CodeNotFound, "no setup in progress")
	}
	return p.s.svc.BeginEnrolment(r.Context(), sess, a)
}

// setupGone sends a customer whose enrolment is no longer there (finished
// or cancelled in another tab) back to settings.
func (p *pages) setupGone(w http.ResponseWriter, r *http.Request, a auth.Account, err error) {
	if auth.ErrorCode(err) == auth.CodeNotFound || auth.ErrorCode(err) == auth.CodeConflict {
		redirect(w, r, "/settings")
		return
	}
	p.failPage(w, r, &a, err)
}

func (p *pages) renderSetup(w http.ResponseWriter, r *http.Request, status int, v *view,
	e auth.Enrolment) {
	grouped := totp.GroupSecret(e.Secret)
	v.Page = setupPage{Enrolment: e, Grouped: grouped, QRSize: p.qrSize(r, e)}
	p.render(w, r, status, "setup", v)
}

// qrSize is the side of the QR code the image route will serve, so that
// the page can reserve its space: the size depends on the length of the
// key URI. Drawing it twice costs well under a millisecond.
func (p *pages) qrSize(r *http.Request, e auth.Enrolment) int {
	b, err := qrPNG(e.URI)
	if err == nil {
		var cfg image.Config
		if cfg, err = png.DecodeConfig(bytes.NewReader(b)); err == nil {
			return cfg.Width
		}
	}
	p.s.logCause(r, slog.LevelError, fmt.Errorf("qr code size: %w", err))
	return 0
}

// confirmSetup turns 2FA on with a code from the new secret. A wrong code
// shows the same page, same secret, with the error on the field; only
// here may it say that the phone's clock is off.
func (p *pages) confirmSetup(w http.ResponseWriter, r *http.Request, _ auth.Session,
	a auth.Account) {
	if !p.parseForm(w, r) {
		return
	}
	e, err := p.s.svc.PendingEnrolment(r.Context(), a)
	if err != nil {
		p.setupGone(w, r, a, err)
		return
	}
	codes, err := p.s.svc.ConfirmEnrolment(r.Context(), a, r.PostFormValue("code"), p.s.meta(r))
	if auth.ErrorCode(err) == auth.CodeConflict || auth.ErrorCode(err) == auth.CodeNotFound {
		p.setupGone(w, r, a, err)
		return
	}
	v := p.newView(r, &a)
	if err != nil {
		p.renderSetup(w, r, p.formError(w, r, v, err, i18n.ContextEnrol, "code"), v, e)
		return
	}
	page := codesPage{Title: v.L.T("enabled.title"), Lead: v.L.T("enabled.lead"), Next: "/settings"}
	if e.NewDevice {
		page.Title, page.Lead = v.L.T("enabled.new_device_title"), v.L.T("enabled.new_device_lead")
	}
	p.renderCodes(w, r, v, page, codes)
}

// renderCodes shows recovery codes with a download. The file is a data:
// link made here, since after this answer the codes exist only as hashes;
// Cache-Control: no-store (set for every answer) keeps the page out of
// caches.
func (p *pages) renderCodes(w http.ResponseWriter, r *http.Request, v *view, page codesPage,
	codes []string) {
	if len(codes) > 0 {
		page.Codes = codes
		page.FileName = strings.TrimSuffix(keyFileName(v.Issuer), "-2fa-key.txt") +
			"-recovery-codes.txt"
		page.Download = codesDataURL(v, codes)
	}
	v.Page = page
	p.render(w, r, http.StatusOK, "enabled", v)
}

func codesDataURL(v *view, codes []string) template.URL {
	var b strings.Builder
	b.WriteString(v.L.T("codes.file_title", "issuer", v.Issuer, "email", v.Email) + "\n\n")
	b.WriteString(v.L.T("codes.file_help") + "\n\n")
	for i, c := range codes {
		b.WriteString(strconv.Itoa(i+1) + ". " + c + "\n")
	}
	// PathEscape leaves nothing that could end the attribute or the URL.
	return template.URL("data:text/plain;charset=utf-8," + url.PathEscape(b.String()))
}

func (p *pages) cancelSetup(w http.ResponseWriter, r *http.Request, _ auth.Session,
	a auth.Account) {
	if err := p.s.svc.CancelEnrolment(r.Context(), a); err != nil {
		p.failPage(w, r, &a, err)
		return
	}
	redirect(w, r, "/settings?notice=setup_cancelled")
}

// regenerate replaces the recovery codes after a current code from the app.
func (p *pages) regenerate(w http.ResponseWriter, r *http.Request, _ auth.Session, a auth.Account) {
	if !p.parseForm(w, r) {
		return
	}
	v := p.newView(r, &a)
	codes, err := p.s.svc.RegenerateRecoveryCodes(r.Context(), a, r.PostFormValue("code"),
		p.s.meta(r))
	if err != nil {
		status := p.formError(w, r, v, err, i18n.ContextRegenerate, "regen-code")
		p.renderSettings(w, r, status, v, a)
		return
	}
	page := codesPage{Title: v.L.T("codes.new_title"), Lead: v.L.T("codes.new_lead"),
		Next: "/settings"}
	p.renderCodes(w, r, v, page, codes)
}

// disable turns 2FA off with the password and a code or recovery code.
func (p *pages) disable(w http.ResponseWriter, r *http.Request, _ auth.Session, a auth.Account) {
	if !p.parseForm(w, r) {
		return
	}
	v := p.newView(r, &a)
	err := p.s.svc.DisableTwoFactor(r.Context(), a, r.PostFormValue("password"),
		r.PostFormValue("code"), p.s.meta(r))
	if err == nil {
		redirect(w, r, "/settings?notice=2fa_disabled")
		return
	}
	switch auth.ErrorCode(err) {
	case auth.CodeConflict:
		redirect(w, r, "/settings")
	case auth.CodeInvalidCredentials:
		p.renderSettings(w, r, p.formError(w, r, v, err, i18n.ContextDisable, "disable-password"),
			v, a)
	default:
		p.renderSettings(w, r, p.formError(w, r, v, err, i18n.ContextDisable, "disable-code"),
			v, a)
	}
}

// security shows the customer's own security log, newest first, a page
// at a time; ?before= continues below an event id.
func (p *pages) security(w http.ResponseWriter, r *http.Request, _ auth.Session, a auth.Account) {
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	before = max(before, 0)
	v := p.newView(r, &a)
	page, err := p.eventsPage(r, v, a.ID, before, false)
	if err != nil {
		p.failPage(w, r, &a, err)
		return
	}
	page.Paged = before > 0
	if page.Older != "" {
		page.Older = "/security?before=" + page.Older
	}
	v.Page = page
	p.render(w, r, http.StatusOK, "security", v)
}

// eventsPage reads one page of events. Older is the id to continue
// below, when there are more. Support (withDetail) also sees the details
// the service recorded, such as a reset's reason, which are in English.
func (p *pages) eventsPage(r *http.Request, v *view, accountID, before int64,
	withDetail bool) (eventsPage, error) {
	es, err := p.s.svc.Events(r.Context(), accountID, before, eventsPerPage+1)
	if err != nil {
		return eventsPage{}, err
	}
	var page eventsPage
	if len(es) > eventsPerPage {
		es = es[:eventsPerPage]
		page.Older = strconv.FormatInt(es[len(es)-1].ID, 10)
	}
	for _, e := range es {
		row := eventRow{ISO: e.At.UTC().Format(time.RFC3339), When: v.L.DateTime(e.At),
			What: eventText(v.L, e.Kind), Detail: detailText(v.L, e.Detail), IP: e.IP,
			Device: e.UserAgent}
		if withDetail {
			row.Detail = e.Detail
		}
		page.Events = append(page.Events, row)
	}
	return page, nil
}

// eventKinds lists every event kind the pages can name; an unknown kind
// (from a newer version) reads as a generic event.
func eventKinds() []auth.EventKind {
	return []auth.EventKind{auth.EventSignUp, auth.EventSignIn, auth.EventPasswordFailed,
		auth.EventCodeAccepted, auth.EventCodeFailed, auth.EventCodeReplayed,
		auth.EventThrottled, auth.EventTwoFactorEnabled, auth.EventTwoFactorDisabled,
		auth.EventTwoFactorReset, auth.EventNewDevice, auth.EventRecoveryCodeUsed,
		auth.EventRecoveryRegenerated, auth.EventPasswordChanged, auth.EventPasswordReset,
		auth.EventSupportRequested, auth.EventSignedOutEverywhere}
}

func eventText(l i18n.Localizer, k auth.EventKind) string {
	for _, known := range eventKinds() {
		if k == known {
			return l.T("event." + string(k))
		}
	}
	return l.T("event.other")
}

// detailText translates the details the service records for the customer
// to see; others, written for support, are left out of the customer's log.
func detailText(l i18n.Localizer, detail string) string {
	switch detail {
	case "password", "totp", "recovery code", "second factor":
		return l.T("event_detail." + strings.ReplaceAll(detail, " ", "_"))
	}
	return ""
}
