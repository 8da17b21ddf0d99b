package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clientarea/clientarea/internal/auth"
	"github.com/clientarea/clientarea/internal/oathtool"
)

// enrolled is a browser signed in to an account with 2FA on.
type enrolled struct {
	*browser
	email, secret string
	codes         []string
}

func newEnrolled(t *testing.T, e *env, email string) *enrolled {
	t.Helper()
	b := newBrowser(e)
	b.signUpAndIn(email)
	secret, codes := b.enrolByPages()
	e.clock.Add(time.Minute) // later codes are of later steps than the activating one
	return &enrolled{browser: b, email: email, secret: secret, codes: codes}
}

func (u *enrolled) code() string { return oathtool.TOTP(u.t, u.secret, u.env.clock.Now()) }

func TestPagesRecommendation(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(e)
	home := b.signUpAndIn("tip@example.com")
	p := b.submit(home, "/home/hide-2fa-tip", nil)
	var tip *http.Cookie
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		if c.Name == tipCookie {
			tip = c
		}
	}
	if tip == nil || tip.MaxAge != 30*24*60*60 || !tip.HttpOnly {
		t.Fatalf("Not now: got cookie %+v, want one for 30 days", tip)
	}
	if home = b.follow(p, "/"); home.doc.byID("recommend-title") != nil {
		t.Errorf("home still recommends 2FA after Not now")
	}
	// Another customer signing in with the same browser still sees it.
	b.submit(home, "/logout", nil)
	if other := b.signUpAndIn("next@example.com"); other.doc.byID("recommend-title") == nil {
		t.Errorf("one customer's Not now hid the recommendation from another")
	}
	b.submit(b.get("/"), "/logout", nil)
	b.follow(b.signIn(page{}, "tip@example.com"), "/")
	// The link goes straight to enrolment, without a step in between.
	setup := b.get("/settings/2fa/setup")
	if setup.status != http.StatusOK || setup.doc.first(is("img", "class", "qr")) == nil {
		t.Errorf("the recommendation's link: got %d\n%s", setup.status, setup.text())
	}
}

func TestPagesSettingsActions(t *testing.T) {
	e := newEnv(t)
	u := newEnrolled(t, e, "grace@example.com")

	// New recovery codes need a current code.
	settings := u.get("/settings")
	p := u.submit(settings, "/settings/2fa/recovery-codes",
		map[string]string{"code": wrongCode(t, u.secret, e.clock.Now())})
	if p.status != http.StatusUnauthorized || !strings.Contains(p.fieldError(t, "regen-code"),
		"not right") {
		t.Errorf("new codes with a wrong code: got %d %q", p.status, p.text())
	}
	// The language switcher on that answer leads to a page a GET opens.
	if p.doc.first(is("input", "name", "next", "value", "/settings")) == nil {
		t.Errorf("the language switcher after a POST-only form does not lead to /settings")
	}
	p = u.submit(p, "/settings/2fa/recovery-codes", map[string]string{"code": u.code()})
	fresh := recoveryCodesOf(t, p)
	checkCodesDownload(t, p, fresh)
	if !strings.Contains(p.text(), "Your old recovery codes no longer work.") ||
		slices.Contains(fresh, u.codes[0]) {
		t.Errorf("new codes: got %q", p.text())
	}
	e.clock.Add(time.Minute)

	// A new device: the page says so, and the codes stay.
	setup := u.submit(u.get("/settings"), "/settings/2fa/enable", nil)
	setup = u.follow(setup, "/settings/2fa/setup")
	if h1 := setup.doc.first(is("h1")).content(); h1 != "Set up a new device" ||
		setup.doc.byID("new-device-note") == nil {
		t.Errorf("new device: got heading %q", h1)
	}
	newSecret := secretOf(t, setup)
	if newSecret == u.secret {
		t.Fatalf("new device shows the active secret")
	}
	cancelled := u.follow(u.submit(setup, "/settings/2fa/setup/cancel", nil),
		"/settings?notice=setup_cancelled")
	if !strings.Contains(cancelled.text(), "Setup cancelled") {
		t.Errorf("cancel: got %q", cancelled.text())
	}

	// Turning off needs the password and a code.
	p = u.submit(u.get("/settings"), "/settings/2fa/disable",
		map[string]string{"password": "not the password", "code": u.code()})
	if msg := p.fieldError(t, "disable-password"); msg != "The password is wrong." {
		t.Errorf("disable with a wrong password: got %q", msg)
	}
	p = u.submit(p, "/settings/2fa/disable", map[string]string{"password": testPassword,
		"code": fresh[0]})
	off := u.follow(p, "/settings?notice=2fa_disabled")
	if s := off.doc.byID("two-factor").content(); !strings.Contains(s, "Off") {
		t.Errorf("after disable: got %q", s)
	}

	// Password change: the current one must be right, the new one long enough.
	p = u.submit(off, "/settings/password", map[string]string{"current_password": "wrong one",
		"new_password": "a new long password"})
	if msg := p.fieldError(t, "current-password"); msg != "The current password is wrong." {
		t.Errorf("change with a wrong current password: got %q", msg)
	}
	p = u.submit(p, "/settings/password", map[string]string{"current_password": testPassword,
		"new_password": "short"})
	if msg := p.fieldError(t, "new-password"); !strings.Contains(msg, "8 to 256 characters") {
		t.Errorf("change to a short password: got %q", msg)
	}
	p = u.submit(p, "/settings/password", map[string]string{"current_password": testPassword,
		"new_password": "a new long password"})
	u.follow(p, "/settings?notice=password_changed")

	p = u.follow(u.submit(u.get("/settings"), "/logout/everywhere", nil),
		"/login?notice=signed_out_everywhere")
	if got := u.get("/settings"); got.location() != "/login?next=%2Fsettings" {
		t.Errorf("after sign out everywhere: got %d to %q", got.status, got.location())
	}
}

func TestPagesCodeThrottled(t *testing.T) {
	e := newEnv(t)
	u := newEnrolled(t, e, "slow@example.com")
	b := newBrowser(e)
	code := b.follow(b.signIn(page{}, u.email), "/login/code")
	wrong := wrongCode(t, u.secret, e.clock.Now())
	var p page
	for range 6 {
		p = b.submit(code, "/login/code", map[string]string{"code": wrong})
	}
	if p.status != http.StatusTooManyRequests {
		t.Fatalf("sixth wrong code: got %d, want 429", p.status)
	}
	secs, err := strconv.Atoi(p.header.Get("Retry-After"))
	if err != nil || secs <= 0 {
		t.Errorf("got Retry-After %q, want seconds", p.header.Get("Retry-After"))
	}
	if msg := p.fieldError(t, "code"); !strings.Contains(msg, "Too many attempts. Wait") {
		t.Errorf("throttled: got %q", msg)
	}
	if strings.Contains(p.text(), "fast") || strings.Contains(p.text(), "slow") {
		t.Errorf("the code step gives a clock hint: %q", p.text())
	}
}

func TestPagesFormErrors(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(e)
	p := b.submit(b.get("/signup"), "/signup", map[string]string{"email": "not an address",
		"password": "short"})
	if p.status != http.StatusBadRequest || p.fieldError(t, "email") == "" ||
		p.fieldError(t, "password") == "" {
		t.Errorf("bad sign-up: got %d %q", p.status, p.text())
	}
	if got := p.field(t, "email").attr["value"]; got != "not an address" {
		t.Errorf("bad sign-up keeps the address: got %q", got)
	}
	b.signUpAndIn("known@example.com")
	anon := newBrowser(e)
	p = anon.submit(anon.get("/login"), "/login", map[string]string{"email": "known@example.com",
		"password": "wrong password"})
	if p.status != http.StatusUnauthorized {
		t.Errorf("wrong password: got %d, want 401", p.status)
	}
	if msg := p.fieldError(t, "password"); msg != "Wrong e-mail or password." {
		t.Errorf("wrong password: got %q", msg)
	}
	if strings.Contains(p.body, "wrong password") {
		t.Errorf("the page repeats the typed password")
	}
	big := anon.post("/login", url.Values{"email": {strings.Repeat("a", 100<<10)}})
	if big.status != http.StatusRequestEntityTooLarge {
		t.Errorf("a huge form: got %d, want 413", big.status)
	}
}

// TestPagesCrossOrigin checks that the forms rely on the cross-origin
// protection of the middleware, which refuses a POST from another site.
func TestPagesCrossOrigin(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(e)
	b.signUpAndIn("csrf@example.com")
	h := http.Header{"Sec-Fetch-Site": {"cross-site"},
		"Content-Type": {"application/x-www-form-urlencoded"}}
	got := b.raw("POST", "/logout/everywhere", h, strings.NewReader(""))
	if got.status != http.StatusForbidden {
		t.Errorf("cross-site POST: got %d, want 403", got.status)
	}
	if p := b.get("/settings"); p.status != http.StatusOK {
		t.Errorf("after a refused cross-site POST: got %d, want the session intact", p.status)
	}
}

func TestPagesPasswordReset(t *testing.T) {
	e := newEnv(t)
	u := newEnrolled(t, e, "reset@example.com")
	b := newBrowser(e)
	forgot := b.click(b.get("/login"), "Forgot password?")
	p := b.follow(b.submit(forgot, "/password/forgot", map[string]string{"email": u.email}),
		"/password/forgot?sent=1")
	wantText(t, "reset requested", p.text(), "Check your e-mail", "30 minutes")
	link := mailedLink(t, e, u.email, "/password/reset?token=")
	form := b.get(link)
	p = b.submit(form, "/password/reset", map[string]string{"password": "a brand new password"})
	b.follow(p, "/login?notice=password_reset")
	again := b.get(link)
	again = b.submit(again, "/password/reset", map[string]string{"password": "another password!"})
	if again.status != http.StatusNotFound {
		t.Errorf("used link: got %d, want 404", again.status)
	}
	wantText(t, "used link", again.text(), "This link does not work")
	// The new password still leads to the code step.
	p = b.submit(b.get("/login"), "/login", map[string]string{"email": u.email,
		"password": "a brand new password"})
	b.follow(p, "/login/code")
}

// mailedLink finds the last link to path in the mail to whom, and returns
// it as a local address.
func mailedLink(t *testing.T, e *env, to, path string) string {
	t.Helper()
	re := regexp.MustCompile(regexp.QuoteMeta("http://127.0.0.1"+path) + `[A-Za-z0-9_%-]+`)
	var link string
	for _, m := range readOutbox(t, e) {
		if m.To == to {
			if found := re.FindString(m.Text); found != "" {
				link = found
			}
		}
	}
	if link == "" {
		t.Fatalf("no mail to %s with a link to %s", to, path)
	}
	return strings.TrimPrefix(link, "http://127.0.0.1")
}

func TestPagesSecurityLog(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(e)
	b.signUpAndIn("log@example.com")
	api := e.client()
	for range 55 {
		api.call("POST", "/api/v1/login", creds("log@example.com", testPassword)).
			want(t, http.StatusOK, "")
	}
	first := b.get("/security")
	rows := first.doc.first(is("table", "class", "events")).first(is("tbody")).all(is("tr"))
	if len(rows) != 50 {
		t.Fatalf("first page: got %d events, want 50", len(rows))
	}
	if got := rows[0].content(); !strings.Contains(got, "14 November 2023, 22:13 UTC") ||
		!strings.Contains(got, "Signed in") || !strings.Contains(got, "127.0.0.1") {
		t.Errorf("newest event: got %q", got)
	}
	older := b.click(first, "Older events")
	rest := older.doc.first(is("table", "class", "events")).first(is("tbody")).all(is("tr"))
	// 55 API sign-ins, the page sign-in and the sign-up: 57 events.
	if len(rest) != 7 || !strings.Contains(rest[len(rest)-1].content(), "Account created") {
		t.Errorf("second page: got %d events, the last %q", len(rest), rest[len(rest)-1].content())
	}
}

func TestPagesAdmin(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	customer := newBrowser(e)
	customer.signUpAndIn("carol@example.com")
	if p := customer.get("/admin"); p.status != http.StatusForbidden {
		t.Errorf("customer, GET /admin: got %d, want 403", p.status)
	}

	_, err := e.svc.CreateAccount(ctx, "root@example.com", testPassword, auth.RoleAdmin)
	if err != nil {
		t.Fatalf("create admin: %v", err)
	}
	admin := newBrowser(e)
	admin.follow(admin.signIn(page{}, "root@example.com"), "/")
	for _, path := range []string{"/admin", "/admin/accounts?q=carol"} {
		p := admin.get(path)
		if p.status != http.StatusForbidden {
			t.Errorf("admin without 2FA, GET %s: got %d, want 403", path, p.status)
		}
		wantText(t, "admin without 2FA", p.text(), "two-factor authentication on your own account")
	}
	if p := admin.post("/admin/reset", url.Values{"email": {"carol@example.com"},
		"reason": {"x"}}); p.status != http.StatusForbidden {
		t.Errorf("admin without 2FA, POST /admin/reset: got %d, want 403", p.status)
	}
	admin.enrolByPages()
	e.clock.Add(time.Minute)

	// The customer turns 2FA on, loses the phone and asks for help.
	dave := newEnrolled(t, e, "dave@example.com")
	b := newBrowser(e)
	code := b.follow(b.signIn(page{}, dave.email), "/login/code")
	form := b.click(code, "Lost access to your authenticator?")
	p := b.submit(form, "/login/support", map[string]string{"message": "Phone fell in a lake."})
	sent := b.follow(p, "/login/support?sent=1")
	if !strings.Contains(sent.text(), "Check your e-mail to confirm") {
		t.Errorf("support request sent: got %q", sent.text())
	}
	confirm := b.get(mailedLink(t, e, dave.email, "/support/confirm?token="))
	done := b.submit(confirm, "/support/confirm", nil)
	if !strings.Contains(done.text(), "Request confirmed") {
		t.Errorf("support confirmed: got %q", done.text())
	}

	queue := admin.get("/admin")
	if queue.status != http.StatusOK || !strings.Contains(queue.text(), dave.email) ||
		!strings.Contains(queue.text(), "Phone fell in a lake.") {
		t.Fatalf("support queue: got %d %q", queue.status, queue.text())
	}
	found := admin.get("/admin/accounts?q=" + url.QueryEscape("dave"))
	account := admin.click(found, dave.email)
	wantText(t, "account view", account.text(), "On", "10 recovery codes")
	p = admin.submit(account, "/admin/reset", map[string]string{"reason": "  "})
	if p.status != http.StatusBadRequest {
		t.Errorf("reset without a reason: got %d, want 400", p.status)
	}
	wantText(t, "reset without a reason", p.fieldError(t, "reason"), "how you verified")
	p = admin.submit(p, "/admin/reset",
		map[string]string{"reason": "Called back on the phone number on file"})
	view := "/admin/accounts?email=" + url.QueryEscape(dave.email)
	after := admin.follow(p, view+"&notice=reset_done")
	if s := after.text(); !strings.Contains(s, "Off") ||
		!strings.Contains(s, "by root@example.com: Called back on the phone number on file") {
		t.Errorf("after the reset: got %q", s)
	}
	acct, err := e.svc.AccountByEmail(ctx, dave.email)
	if err != nil {
		t.Fatalf("account: %v", err)
	}
	if st, err := e.svc.TwoFactor(ctx, acct); err != nil || st.Enabled {
		t.Errorf("after the reset: 2FA enabled=%v (%v), want off", st.Enabled, err)
	}
	if got := dave.get("/settings"); got.status != http.StatusSeeOther {
		t.Errorf("the customer's session after the reset: got %d, want it ended", got.status)
	}
	if q := admin.get("/admin"); strings.Contains(q.text(), dave.email) {
		t.Errorf("the request stays in the queue after the reset")
	}
}

func TestPagesStatic(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(e)
	login := b.get("/login")
	css := login.doc.first(is("link", "rel", "stylesheet")).attr["href"]
	got := b.get(css)
	ct, cache := got.header.Get("Content-Type"), got.header.Get("Cache-Control")
	if got.status != http.StatusOK || !strings.HasPrefix(ct, "text/css") ||
		!strings.Contains(cache, "immutable") {
		t.Errorf("GET %s: got %d %q %q", css, got.status, ct, cache)
	}
	wantText(t, "app.css", got.body, "prefers-color-scheme: dark", ":focus-visible")
	js := login.doc.first(is("script")).attr["src"]
	got = b.get(js)
	if ct := got.header.Get("Content-Type"); !strings.Contains(ct, "javascript") {
		t.Errorf("GET %s: got %d %q", js, got.status, ct)
	}
	for _, path := range []string{"/static/nope.css", "/static/layout.html", "/no/such/page"} {
		if got := b.get(path); got.status != http.StatusNotFound {
			t.Errorf("GET %s: got %d, want 404", path, got.status)
		}
	}
	csp := login.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("pages answer with CSP %q", csp)
	}
}
