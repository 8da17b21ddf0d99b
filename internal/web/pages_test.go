package web

import (
	"context"
	stdpng "image/png"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clientarea/clientarea/internal/oathtool"
	"github.com/clientarea/clientarea/internal/zbar"
)

// base32Grouped is a Base32 secret in groups of four.
var base32Grouped = regexp.MustCompile(`^[A-Z2-7]{4}( [A-Z2-7]{4})*( [A-Z2-7]{1,3})?$`)

// signUpAndIn makes an account through the pages and signs in, ending on
// the home page.
func (b *browser) signUpAndIn(email string) page {
	b.t.Helper()
	p := b.submit(b.get("/signup"), "/signup", map[string]string{"email": email,
		"password": testPassword})
	p = b.follow(p, "/login?notice=signed_up")
	return b.follow(b.signIn(p, email), "/")
}

// signIn submits the sign-in form of p (or of a fresh sign-in page).
func (b *browser) signIn(p page, email string) page {
	b.t.Helper()
	if p.doc == nil || p.doc.first(is("form", "action", "/login")) == nil {
		p = b.get("/login")
	}
	return b.submit(p, "/login", map[string]string{"email": email, "password": testPassword})
}

// secretOf reads the secret key from an enrolment page.
func secretOf(t *testing.T, p page) string {
	t.Helper()
	key := p.doc.byID("secret-key")
	if key == nil {
		t.Fatalf("%s has no secret key\n%s", p.path, p.text())
	}
	if !base32Grouped.MatchString(key.content()) {
		t.Fatalf("secret %q is not Base32 in groups of four", key.content())
	}
	return strings.ReplaceAll(key.content(), " ", "")
}

// enrolByPages turns 2FA on from settings and returns the secret and the
// recovery codes the page shows.
func (b *browser) enrolByPages() (string, []string) {
	b.t.Helper()
	p := b.submit(b.get("/settings"), "/settings/2fa/enable", nil)
	p = b.follow(p, "/settings/2fa/setup")
	secret := secretOf(b.t, p)
	p = b.submit(p, "/settings/2fa/setup",
		map[string]string{"code": oathtool.TOTP(b.t, secret, b.env.clock.Now())})
	if p.status != http.StatusOK {
		b.t.Fatalf("confirm enrolment: got %d, want 200\n%s", p.status, p.text())
	}
	return secret, recoveryCodesOf(b.t, p)
}

func recoveryCodesOf(t *testing.T, p page) []string {
	t.Helper()
	var codes []string
	if list := p.doc.first(is("ol", "class", "codes")); list != nil {
		for _, li := range list.all(is("li")) {
			codes = append(codes, li.content())
		}
	}
	return codes
}

// wrongCode returns six digits that are no code of secret within ten
// minutes of at, by oathtool, so that it is wrong without a clock hint.
func wrongCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	near := oathtool.Window(t, secret, at.Add(-20*30*time.Second), 41)
	for _, c := range []string{"123456", "654321", "000000", "999999", "246802"} {
		if !slices.Contains(near, c) {
			return c
		}
	}
	t.Fatal("every candidate is a code near now")
	return ""
}

func TestPagesJourney(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(e)
	const email = "ada@example.com"
	home := b.signUpAndIn(email)

	// The header's account menu: the login, then Settings, Security and a
	// Sign out button, in a <details> that works without JavaScript.
	menu := home.doc.first(is("details", "class", "account-menu"))
	if menu == nil || !strings.Contains(menu.first(is("summary")).content(), email) {
		t.Fatalf("home has no account menu showing %s\n%s", email, home.text())
	}
	for _, href := range []string{"/settings", "/security"} {
		if menu.first(is("a", "href", href)) == nil {
			t.Errorf("account menu has no link to %s", href)
		}
	}
	signOut := menu.first(is("form", "action", "/logout"))
	if signOut == nil || signOut.first(is("button")).content() != "Sign out" {
		t.Errorf("account menu has no Sign out button")
	}
	if home.doc.first(is("a", "href", "/settings/2fa/setup")) == nil {
		t.Errorf("home without 2FA has no link to enrolment\n%s", home.text())
	}

	settings := b.click(home, "Settings")
	section := settings.doc.byID("two-factor")
	if section == nil || !strings.Contains(section.content(), "Two-factor authentication") ||
		!strings.Contains(section.content(), "Off") {
		t.Fatalf("settings does not say 2FA is off\n%s", settings.text())
	}
	enable := settings.doc.first(is("form", "action", "/settings/2fa/enable"))
	if enable == nil || enable.first(is("button")).content() != "Enable two-factor authentication" {
		t.Fatalf("settings has no Enable button\n%s", settings.text())
	}

	setup := b.follow(b.submit(settings, "/settings/2fa/enable", nil), "/settings/2fa/setup")
	secret := checkSetupPage(t, b, setup, email)
	if again := secretOf(t, b.get("/settings/2fa/setup")); again != secret {
		t.Fatalf("reload: got secret %s, want the same %s", again, secret)
	}

	// A wrong code: 2FA stays off, and the error sits on the field.
	now := e.clock.Now()
	wrong := b.submit(setup, "/settings/2fa/setup",
		map[string]string{"code": wrongCode(t, secret, now)})
	if wrong.status != http.StatusUnauthorized {
		t.Errorf("wrong code: got %d, want 401", wrong.status)
	}
	msg := wrong.fieldError(t, "code")
	for _, want := range []string{"Wait for the next code", "phone"} {
		if !strings.Contains(msg, want) {
			t.Errorf("wrong code: got %q, want it to contain %q", msg, want)
		}
	}
	if strings.Contains(msg, "fast") || strings.Contains(msg, "slow") {
		t.Errorf("wrong code far from any time: got a clock hint %q", msg)
	}
	if got := secretOf(t, wrong); got != secret {
		t.Errorf("after a wrong code: got secret %s, want %s", got, secret)
	}

	// A code of five minutes from now: the phone's clock is fast.
	skewed := b.submit(wrong, "/settings/2fa/setup",
		map[string]string{"code": oathtool.TOTP(t, secret, now.Add(5*time.Minute))})
	msg = skewed.fieldError(t, "code")
	for _, want := range []string{"about 5 minutes fast", "automatic date and time"} {
		if !strings.Contains(msg, want) {
			t.Errorf("skewed code: got %q, want it to contain %q", msg, want)
		}
	}

	done := b.submit(skewed, "/settings/2fa/setup",
		map[string]string{"code": oathtool.TOTP(t, secret, now)})
	if done.status != http.StatusOK {
		t.Fatalf("right code: got %d\n%s", done.status, done.text())
	}
	wantText(t, "right code", done.text(), "Two-factor authentication is on")
	codes := recoveryCodesOf(t, done)
	checkCodesDownload(t, done, codes)
	if got := b.get("/settings/2fa/setup"); got.location() != "/settings" {
		t.Errorf("setup after activation: got %d to %q, want a redirect to /settings", got.status,
			got.location())
	}
	settings = b.get("/settings")
	if s := settings.doc.byID("two-factor").content(); !strings.Contains(s, "On") ||
		!strings.Contains(s, "You have 10 recovery codes left.") || strings.Contains(s, secret) {
		t.Errorf("settings with 2FA on: got %q", s)
	}

	// Sign out, then in with the second step.
	out := b.submit(b.get("/"), "/logout", nil)
	login := b.follow(out, "/login?notice=signed_out")
	if !strings.Contains(login.text(), "You have signed out.") {
		t.Errorf("after sign-out: got %q", login.text())
	}
	e.clock.Add(time.Minute) // the activating code's step is spent
	codePage := b.follow(b.signIn(login, email), "/login/code")
	checkCodePage(t, codePage)
	checkHalfSignedIn(t, b)
	p := b.submit(codePage, "/login/code",
		map[string]string{"code": " " + oathtool.TOTP(t, secret, e.clock.Now()) + "\n"})
	if home = b.follow(p, "/"); !strings.Contains(home.text(), email) {
		t.Errorf("home after the code: got %q", home.text())
	}
	if home.doc.first(is("a", "href", "/settings/2fa/setup")) != nil {
		t.Errorf("home with 2FA on still recommends it")
	}

	checkRecoverySignIn(t, e, email, codes)
}

// checkSetupPage checks the enrolment page in the customer's order of
// work, and returns the secret shown.
func checkSetupPage(t *testing.T, b *browser, p page, email string) string {
	t.Helper()
	order := []string{}
	for _, n := range p.doc.all(func(n *node) bool { return n.has("id") || n.tag == "img" }) {
		order = append(order, n.tag+"#"+n.attr["id"])
	}
	img := p.doc.first(is("img", "class", "qr"))
	if img == nil || img.attr["src"] != "/settings/2fa/setup/qr.png" || img.attr["alt"] == "" {
		t.Fatalf("setup has no QR code image with alt text\n%s", p.body)
	}
	width, _ := strconv.Atoi(img.attr["width"])
	if width < 256 || width > 320 || img.attr["height"] != img.attr["width"] {
		t.Errorf("QR code %sx%s, want a square of 256 to 320 pixels", img.attr["width"],
			img.attr["height"])
	}
	if got := p.doc.byID("account-name").content(); got != email {
		t.Errorf("account name: got %q, want %q", got, email)
	}
	secret := secretOf(t, p)
	// The copy button needs the script, so the page hides it until the
	// script runs.
	if cp := p.doc.first(is("button", "class", "copy")); cp == nil || !cp.has("hidden") ||
		cp.attr["data-copy"] != secret {
		t.Errorf("setup has no hidden copy button for the secret")
	}
	save := p.doc.first(is("a", "href", "/settings/2fa/setup/key"))
	if save == nil || !save.has("download") || save.content() != "Save key" {
		t.Errorf("setup has no Save key download link")
	}
	code := p.field(t, "code")
	for attr, want := range map[string]string{"inputmode": "numeric",
		"autocomplete": "one-time-code", "autofocus": "autofocus", "name": "code"} {
		if code.attr[attr] != want {
			t.Errorf("code field: got %s=%q, want %q", attr, code.attr[attr], want)
		}
	}
	if l := p.doc.first(is("label", "for", "code")); l.content() != "Temporary password" {
		t.Errorf("code field label: got %q, want Temporary password", l.content())
	}
	form := p.doc.first(is("form", "action", "/settings/2fa/setup"))
	if form.first(is("button")).content() != "Ok" {
		t.Errorf("setup form button: got %q, want Ok", form.first(is("button")).content())
	}
	if p.doc.first(is("form", "action", "/settings/2fa/setup/cancel")) == nil {
		t.Errorf("setup has no Cancel button")
	}
	text := p.text()
	for _, want := range []string{"30 seconds", "set automatically", "Google Authenticator",
		"Other apps", "Never share the key or a screenshot of the QR code",
		"second personal device"} {
		if !strings.Contains(text, want) {
			t.Errorf("setup page lacks %q", want)
		}
	}
	wantOrder := []string{"img#", "dd#account-name", "code#secret-key", "input#code"}
	if !inOrder(order, wantOrder) {
		t.Errorf("setup page order: got %v, want %v in this order", order, wantOrder)
	}

	png := b.get("/settings/2fa/setup/qr.png")
	if ct := png.header.Get("Content-Type"); ct != "image/png" {
		t.Fatalf("QR code: got Content-Type %q", ct)
	}
	cfg, err := stdpng.DecodeConfig(strings.NewReader(png.body))
	if err != nil || cfg.Width != width || cfg.Height != width {
		t.Errorf("QR code PNG is %dx%d (%v), the page says %d", cfg.Width, cfg.Height, err, width)
	}
	uri := zbar.Decode(t, []byte(png.body))
	if !strings.Contains(uri, "secret="+secret+"&") || !strings.HasPrefix(uri, "otpauth://totp/") {
		t.Errorf("QR code holds %q, want the key URI of secret %s", uri, secret)
	}
	key := b.get("/settings/2fa/setup/key")
	if !strings.HasPrefix(key.header.Get("Content-Disposition"), "attachment") ||
		!strings.Contains(key.body, secret) {
		t.Errorf("Save key: got %q with %q", key.header.Get("Content-Disposition"), key.body)
	}
	return secret
}

func inOrder(got, want []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && strings.HasPrefix(g, want[i]) {
			i++
		}
	}
	return i == len(want)
}

// checkCodesDownload checks the recovery codes and their data: download,
// and returns the text of the file.
func checkCodesDownload(t *testing.T, p page, codes []string) string {
	t.Helper()
	if len(codes) != 10 {
		t.Fatalf("got %d recovery codes, want 10\n%s", len(codes), p.text())
	}
	a := p.doc.first(func(n *node) bool { return n.tag == "a" && n.has("download") })
	const prefix = "data:text/plain;charset=utf-8,"
	if a == nil || !strings.HasPrefix(a.attr["href"], prefix) {
		t.Fatalf("no download link of the codes\n%s", p.body)
	}
	file, err := url.PathUnescape(strings.TrimPrefix(a.attr["href"], prefix))
	if err != nil {
		t.Fatalf("download link: %v", err)
	}
	for _, c := range codes {
		if !strings.Contains(file, c) {
			t.Errorf("downloaded file lacks code %s", c)
		}
	}
	if cc := p.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("codes page: got Cache-Control %q, want no-store", cc)
	}
	if got, want := a.attr["download"], "acme-client-area-recovery-codes.txt"; got != want {
		t.Errorf("codes download: got file name %q, want %q", got, want)
	}
	return file
}

func checkCodePage(t *testing.T, p page) {
	t.Helper()
	code := p.field(t, "code")
	for attr, want := range map[string]string{"inputmode": "numeric",
		"autocomplete": "one-time-code", "autofocus": "autofocus"} {
		if code.attr[attr] != want {
			t.Errorf("code step: got %s=%q, want %q", attr, code.attr[attr], want)
		}
	}
	if l := p.doc.first(is("label", "for", "code")); l.content() != "Code" {
		t.Errorf("code step label: got %q, want Code", l.content())
	}
	for _, link := range []string{"Use a recovery code instead",
		"Lost access to your authenticator?"} {
		if p.doc.first(func(n *node) bool { return n.tag == "a" && n.content() == link }) == nil {
			t.Errorf("code step has no link %q", link)
		}
	}
}

// checkHalfSignedIn checks that between the password and the code no page
// of the client area opens: each leads back to the code step.
func checkHalfSignedIn(t *testing.T, b *browser) {
	t.Helper()
	for path, want := range map[string]string{
		"/":                   "/login/code",
		"/settings":           "/login/code?next=%2Fsettings",
		"/security":           "/login/code?next=%2Fsecurity",
		"/settings/2fa/setup": "/login/code?next=%2Fsettings%2F2fa%2Fsetup",
		"/admin":              "/login/code?next=%2Fadmin",
	} {
		if got := b.get(path); got.status != http.StatusSeeOther || got.location() != want {
			t.Errorf("half signed in, GET %s: got %d to %q, want 303 to %q", path, got.status,
				got.location(), want)
		}
	}
	for _, path := range []string{"/settings/2fa/enable", "/logout/everywhere"} {
		if got := b.post(path, url.Values{}); got.location() != "/login/code" {
			t.Errorf("half signed in, POST %s: got %d to %q, want the code step", path,
				got.status, got.location())
		}
	}
}

// checkRecoverySignIn signs in with a recovery code, sees how many are
// left, and finds the code spent for another sign-in.
func checkRecoverySignIn(t *testing.T, e *env, email string, codes []string) {
	t.Helper()
	b := newBrowser(e)
	code := b.follow(b.signIn(page{}, email), "/login/code")
	rec := b.click(code, "Use a recovery code instead")
	p := b.submit(rec, "/login/recovery", map[string]string{"code": strings.ToLower(codes[0])})
	left := b.follow(p, "/login/recovered")
	if !strings.Contains(left.text(), "You have 9 recovery codes left.") {
		t.Errorf("after a recovery code: got %q", left.text())
	}
	if left.doc.first(is("a", "href", "/settings#recovery-codes")) == nil {
		t.Errorf("after a recovery code: no offer of new codes")
	}
	if left.doc.first(is("form", "action", "/settings/2fa/enable")) == nil {
		t.Errorf("after a recovery code: no offer to set up a new device")
	}
	home := b.get("/")
	if !strings.Contains(home.text(), "You signed in with a recovery code") {
		t.Errorf("home after a recovery code: got %q", home.text())
	}

	again := newBrowser(e)
	rec = again.get(again.follow(again.signIn(page{}, email), "/login/code").
		doc.first(is("a", "href", "/login/recovery")).attr["href"])
	p = again.submit(rec, "/login/recovery", map[string]string{"code": codes[0]})
	if p.status != http.StatusUnauthorized || !strings.Contains(p.fieldError(t, "recovery-code"),
		"wrong or was already used") {
		t.Errorf("spent recovery code: got %d %q", p.status, p.text())
	}
}

func TestSafeNext(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/settings", "/settings"},
		{"/security?before=12", "/security?before=12"},
		{"/", "/"},
		{"", "/"},
		{"//evil.test", "/"},
		{"//evil.test/path", "/"},
		{"/\\evil.test", "/"},
		{"/\\/evil.test", "/"},
		{"https://evil.test", "/"},
		{"http:/evil.test", "/"},
		{"javascript:alert(1)", "/"},
		{"/\t/evil.test", "/"},
		{"/\n/evil.test", "/"},
		{"/a\\b", "/"},
		{"evil.test", "/"},
		{" /settings", "/"},
		{"/" + strings.Repeat("a", 3000), "/"},
	}
	for _, tt := range tests {
		if got := safeNext(tt.in); got != tt.want {
			t.Errorf("safeNext(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestPagesOpenRedirect signs in with crafted next parameters, as an
// attacker's link would: only local paths are followed.
func TestPagesOpenRedirect(t *testing.T) {
	e := newEnv(t)
	newBrowser(e).signUpAndIn("next@example.com")
	tests := []struct{ next, want string }{
		{"//evil.test", "/"},
		{"/\\evil.test", "/"},
		{"https://evil.test", "/"},
		{"/\t/evil.test", "/"},
		{"/settings", "/settings"},
	}
	for _, tt := range tests {
		t.Run(tt.next, func(t *testing.T) {
			b := newBrowser(e)
			form := b.get("/login?next=" + url.QueryEscape(tt.next))
			hidden := form.doc.first(is("input", "name", "next"))
			if tt.want == "/" && hidden.attr["value"] != "" {
				t.Errorf("login page carries next=%q, want it dropped", hidden.attr["value"])
			}
			p := b.post("/login", url.Values{"email": {"next@example.com"},
				"password": {testPassword}, "next": {tt.next}})
			if p.status != http.StatusSeeOther || p.location() != tt.want {
				t.Errorf("got %d to %q, want 303 to %q", p.status, p.location(), tt.want)
			}
			lang := b.post("/lang", url.Values{"lang": {"en"}, "next": {tt.next}})
			if lang.location() != tt.want {
				t.Errorf("language switch: got %q, want %q", lang.location(), tt.want)
			}
		})
	}
}

// TestPagesNextThroughCode follows next through the code step.
func TestPagesNextThroughCode(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(e)
	b.signUpAndIn("steps@example.com")
	secret, _ := b.enrolByPages()
	b.submit(b.get("/"), "/logout", nil)
	e.clock.Add(time.Minute)

	b = newBrowser(e)
	p := b.get("/security")
	if p.location() != "/login?next=%2Fsecurity" {
		t.Fatalf("signed out, GET /security: got %q", p.location())
	}
	p = b.signIn(b.get(p.location()), "steps@example.com")
	code := b.follow(p, "/login/code?next=%2Fsecurity")
	p = b.submit(code, "/login/code", map[string]string{"code": oathtool.TOTP(t, secret, e.clock.Now())})
	b.follow(p, "/security")

	// A forged next on the code step itself still lands on /.
	b = newBrowser(e)
	b.follow(b.signIn(page{}, "steps@example.com"), "/login/code")
	e.clock.Add(time.Minute)
	p = b.post("/login/code", url.Values{"code": {oathtool.TOTP(t, secret, e.clock.Now())},
		"next": {"//evil.test"}})
	if p.location() != "/" {
		t.Errorf("code step with next=//evil.test: got %q, want /", p.location())
	}
}

func TestPagesRussian(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(e)
	b.lang = "ru-RU,ru;q=0.9,en;q=0.8"
	login := b.get("/login")
	if got := login.doc.first(is("html")).attr["lang"]; got != "ru" {
		t.Errorf("Accept-Language ru: got lang %q", got)
	}
	if h1 := login.doc.first(is("h1")).content(); h1 != "Вход" {
		t.Errorf("Accept-Language ru: got heading %q, want Вход", h1)
	}
	home := b.signUpAndIn("ivan@example.com")
	if !strings.Contains(home.text(), "Включите двухфакторную аутентификацию") {
		t.Errorf("home in Russian: got %q", home.text())
	}
	a, err := e.svc.AccountByEmail(context.Background(), "ivan@example.com")
	if err != nil || a.Lang != "ru" {
		t.Errorf("account language after a Russian sign-in: got %q (%v), want ru", a.Lang, err)
	}

	settings := b.get("/settings")
	setup := b.follow(b.submit(settings, "/settings/2fa/enable", nil), "/settings/2fa/setup")
	if l := setup.doc.first(is("label", "for", "code")).content(); l != "Временный пароль" {
		t.Errorf("Russian code label: got %q", l)
	}
	secret := secretOf(t, setup)
	skewed := b.submit(setup, "/settings/2fa/setup",
		map[string]string{"code": oathtool.TOTP(t, secret, e.clock.Now().Add(-3*time.Minute))})
	if msg := skewed.fieldError(t, "code"); !strings.Contains(msg, "отстают примерно на 3 минуты") {
		t.Errorf("Russian clock hint: got %q", msg)
	}
	done := b.submit(skewed, "/settings/2fa/setup",
		map[string]string{"code": oathtool.TOTP(t, secret, e.clock.Now())})
	if !strings.Contains(done.text(), "Двухфакторная аутентификация включена") {
		t.Errorf("Russian activation: got %q", done.text())
	}
	file := checkCodesDownload(t, done, recoveryCodesOf(t, done))
	for _, want := range []string{"Коды восстановления для ivan@example.com в Acme Client Area\n",
		"выберите «Использовать код восстановления»", "\n1. "} {
		if !strings.Contains(file, want) {
			t.Errorf("Russian recovery codes file lacks %q:\n%s", want, file)
		}
	}
	if strings.Contains(file, "Recovery codes") || strings.Contains(file, "codes.") {
		t.Errorf("Russian recovery codes file has English or a raw key:\n%s", file)
	}
	wantText(t, "Russian plural", b.get("/settings").text(),
		"У вас осталось 10 кодов восстановления.")
	// t0 is 14 November 2023, 22:13:30 UTC.
	if s := b.get("/security").text(); !strings.Contains(s, "14 ноября 2023 г., 22:13 UTC") {
		t.Errorf("Russian dates on the security page: got %q", s)
	}
}

// TestPagesLanguageSwitch picks Russian with the switcher, which is
// remembered over the browser's own language, and in the account.
func TestPagesLanguageSwitch(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(e)
	b.lang = "en-US"
	home := b.signUpAndIn("switch@example.com")
	ru := b.follow(b.submit(home, "/lang", map[string]string{"lang": "ru"}), "/")
	if got := ru.doc.first(is("html")).attr["lang"]; got != "ru" {
		t.Fatalf("after the switch: got lang %q, want ru", got)
	}
	if got := b.get("/settings").doc.first(is("h1")).content(); got != "Настройки" {
		t.Errorf("switch remembered: got heading %q, want Настройки", got)
	}
	a, err := e.svc.AccountByEmail(context.Background(), "switch@example.com")
	if err != nil || a.Lang != "ru" {
		t.Errorf("account language after the switch: got %q (%v), want ru", a.Lang, err)
	}
	lang := ru.doc.first(is("form", "action", "/lang"))
	cur := lang.first(is("button", "aria-current", "true"))
	if cur == nil || cur.attr["value"] != "ru" {
		t.Errorf("switcher does not mark Russian as current")
	}
	en := b.follow(b.submit(ru, "/lang", map[string]string{"lang": "en"}), "/")
	if got := en.doc.first(is("html")).attr["lang"]; got != "en" {
		t.Errorf("switch back: got lang %q, want en", got)
	}

	// Signed out, a page in the switcher's language, whatever the browser says.
	anon := newBrowser(e)
	anon.lang = "en"
	p := anon.follow(anon.submit(anon.get("/login"), "/lang", map[string]string{"lang": "ru"}),
		"/login")
	if h1 := p.doc.first(is("h1")).content(); h1 != "Вход" {
		t.Errorf("signed-out switch: got heading %q, want Вход", h1)
	}
}
