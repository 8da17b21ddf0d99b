package web

import (
	"net/http"
	"net/url"

	"github.com/clientarea/clientarea/internal/auth"
	"github.com/clientarea/clientarea/internal/i18n"
)

// The data of the support pages.
type (
	adminPage struct {
		Query    string
		Requests []requestRow
		Accounts []auth.Account
	}
	adminAccountPage struct {
		Query     string
		Account   auth.Account
		Created   string
		TwoFactor auth.TwoFactorStatus
		Requests  []requestRow
		Events    []eventRow
		Reason    string
	}
	requestRow struct {
		Email, Confirmed, Message, IP string
	}
)

// adminHandler is a support page; a is the member of staff.
type adminHandler func(w http.ResponseWriter, r *http.Request, a auth.Account)

// admin lets in only admins who have 2FA on themselves: a support account
// can turn off anybody's second factor, so a password alone must not be
// enough to use it. Others get 403.
func (p *pages) admin(h adminHandler) http.Handler {
	return p.full(func(w http.ResponseWriter, r *http.Request, _ auth.Session, a auth.Account) {
		if a.Role != auth.RoleAdmin {
			p.forbidden(w, r, a, "forbidden.text")
			return
		}
		st, err := p.s.svc.TwoFactor(r.Context(), a)
		if err != nil {
			p.failPage(w, r, &a, err)
			return
		}
		if !st.Enabled {
			p.forbidden(w, r, a, "forbidden.need_2fa")
			return
		}
		h(w, r, a)
	})
}

func (p *pages) forbidden(w http.ResponseWriter, r *http.Request, a auth.Account, text string) {
	l := p.localizer(r)
	p.message(w, r, http.StatusForbidden, &a, message{Title: l.T("forbidden.title"),
		Paragraphs: []string{l.T(text)}, Link: &link{"/settings", l.T("menu.settings")}})
}

// adminHome is the support queue: confirmed requests for help, oldest
// first, and the search box.
func (p *pages) adminHome(w http.ResponseWriter, r *http.Request, a auth.Account) {
	v := p.newView(r, &a)
	rows, err := p.requests(v, r, 0)
	if err != nil {
		p.failPage(w, r, &a, err)
		return
	}
	v.Page = adminPage{Requests: rows}
	p.render(w, r, http.StatusOK, "admin", v)
}

// requests lists the open requests, of one account when accountID is set.
func (p *pages) requests(v *view, r *http.Request, accountID int64) ([]requestRow, error) {
	rs, err := p.s.svc.SupportQueue(r.Context())
	if err != nil {
		return nil, err
	}
	var rows []requestRow
	for _, q := range rs {
		if accountID == 0 || q.AccountID == accountID {
			rows = append(rows, requestRow{Email: q.Email, Confirmed: v.L.DateTime(q.ConfirmedAt),
				Message: q.Message, IP: q.IP})
		}
	}
	return rows, nil
}

// adminAccounts finds accounts (?q=) or shows one (?email=).
func (p *pages) adminAccounts(w http.ResponseWriter, r *http.Request, a auth.Account) {
	if email := r.URL.Query().Get("email"); email != "" {
		p.adminAccount(w, r, a, p.newView(r, &a), email, "", http.StatusOK)
		return
	}
	q := r.URL.Query().Get("q")
	found, err := p.s.svc.FindAccounts(r.Context(), q)
	if err != nil {
		p.failPage(w, r, &a, err)
		return
	}
	v := p.newView(r, &a)
	v.Page = adminPage{Query: q, Accounts: found}
	p.render(w, r, http.StatusOK, "admin_accounts", v)
}

// adminAccount shows one customer to support: 2FA status, open requests,
// the security log, and the reset form.
func (p *pages) adminAccount(w http.ResponseWriter, r *http.Request, a auth.Account, v *view,
	email, reason string, status int) {
	c, err := p.s.svc.AccountByEmail(r.Context(), email)
	if err != nil {
		p.failPage(w, r, &a, err)
		return
	}
	st, err := p.s.svc.TwoFactor(r.Context(), c)
	if err != nil {
		p.failPage(w, r, &a, err)
		return
	}
	rows, err := p.requests(v, r, c.ID)
	if err != nil {
		p.failPage(w, r, &a, err)
		return
	}
	events, err := p.eventsPage(r, v, c.ID, 0, true)
	if err != nil {
		p.failPage(w, r, &a, err)
		return
	}
	v.Page = adminAccountPage{Account: c, Created: v.L.Date(c.CreatedAt), TwoFactor: st,
		Requests: rows, Events: events.Events, Reason: reason}
	p.render(w, r, status, "admin_account", v)
}

// adminReset turns off a customer's 2FA. The service records the admin's
// login as who did it, and the written reason: how the customer's
// identity was verified.
func (p *pages) adminReset(w http.ResponseWriter, r *http.Request, a auth.Account) {
	if !p.parseForm(w, r) {
		return
	}
	email, reason := r.PostFormValue("email"), r.PostFormValue("reason")
	err := p.s.svc.ResetTwoFactor(r.Context(), email, reason, a.Email, p.s.meta(r))
	if auth.ErrorCode(err) == auth.CodeInvalidInput {
		v := p.newView(r, &a)
		status := p.formError(w, r, v, err, i18n.ContextAdmin, "reason")
		p.adminAccount(w, r, a, v, email, reason, status)
		return
	}
	if err != nil {
		p.failPage(w, r, &a, err)
		return
	}
	redirect(w, r, "/admin/accounts?email="+url.QueryEscape(email)+"&notice=reset_done")
}
