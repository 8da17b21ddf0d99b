package main

import (
	"bytes"
	"flag"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/clientarea/clientarea/internal/browsertest"
	"github.com/clientarea/clientarea/internal/oathtool"
)

// updateScreenshots rewrites docs/screenshots/*.png from the pages of
// TestBrowserJourney: go test ./cmd/clientarea -run BrowserJourney -update-screenshots
var updateScreenshots = flag.Bool("update-screenshots", false,
	"rewrite docs/screenshots/*.png from the browser journey")

const browserPW = "a browser's long password"

// browserWords are the words a customer reads and clicks in one language.
// They are written out here, not taken from the catalogue, so that a
// missing or changed translation fails the test.
type browserWords struct {
	lang, langButton                       string
	signInTitle, signUpLink, signUpTitle   string
	email, password, signUpSubmit, signIn  string
	signedUp, signedOut                    string
	homeTitle, recommend, viaRecovery      string
	settings, security, signOut            string
	settingsTitle, securityTitle, enable   string
	setupTitle, tempPassword, ok, clock    string
	enabledTitle, next, on                 string
	codeTitle, code, useRecovery           string
	recoveryTitle, recoveryCode, recovered string
	codesLeft, enabledEvent, t0Date        string
}

var englishWords = browserWords{
	lang:          "en",
	langButton:    "English",
	signInTitle:   "Sign in",
	signUpLink:    "Create one",
	signUpTitle:   "Create an account",
	email:         "E-mail",
	password:      "Password",
	signUpSubmit:  "Create account",
	signIn:        "Sign in",
	signedUp:      "Done. Sign in with your e-mail address and password.",
	signedOut:     "You have signed out.",
	homeTitle:     "Your client area",
	recommend:     "Turn on two-factor authentication",
	viaRecovery:   "You signed in with a recovery code",
	settings:      "Settings",
	security:      "Security",
	signOut:       "Sign out",
	settingsTitle: "Settings",
	securityTitle: "Security",
	enable:        "Enable two-factor authentication",
	setupTitle:    "Set up two-factor authentication",
	tempPassword:  "Temporary password",
	ok:            "Ok",
	clock:         "your phone's clock seems to be about 5 minutes fast",
	enabledTitle:  "Two-factor authentication is on",
	next:          "Continue",
	on:            "On",
	codeTitle:     "Enter your code",
	code:          "Code",
	useRecovery:   "Use a recovery code instead",
	recoveryTitle: "Sign in with a recovery code",
	recoveryCode:  "Recovery code",
	recovered:     "You are signed in with a recovery code",
	codesLeft:     "You have 9 recovery codes left.",
	enabledEvent:  "Two-factor authentication turned on",
	t0Date:        "14 November 2023, 22:13 UTC",
}

var russianWords = browserWords{
	lang:          "ru",
	langButton:    "Русский",
	signInTitle:   "Вход",
	signUpLink:    "Зарегистрируйтесь",
	signUpTitle:   "Регистрация",
	email:         "Электронная почта",
	password:      "Пароль",
	signUpSubmit:  "Зарегистрироваться",
	signIn:        "Войти",
	signedUp:      "Готово. Войдите, указав адрес электронной почты и пароль.",
	signedOut:     "Вы вышли из учётной записи.",
	homeTitle:     "Личный кабинет",
	recommend:     "Включите двухфакторную аутентификацию",
	viaRecovery:   "Вы вошли с кодом восстановления",
	settings:      "Настройки",
	security:      "Безопасность",
	signOut:       "Выйти",
	settingsTitle: "Настройки",
	securityTitle: "Безопасность",
	enable:        "Включить двухфакторную аутентификацию",
	setupTitle:    "Настройка двухфакторной аутентификации",
	tempPassword:  "Временный пароль",
	ok:            "ОК",
	clock:         "часы телефона, похоже, спешат примерно на 5 минут",
	enabledTitle:  "Двухфакторная аутентификация включена",
	next:          "Продолжить",
	on:            "Включена",
	codeTitle:     "Введите код",
	code:          "Код",
	useRecovery:   "Использовать код восстановления",
	recoveryTitle: "Вход с кодом восстановления",
	recoveryCode:  "Код восстановления",
	recovered:     "Вы вошли с кодом восстановления",
	codesLeft:     "У вас осталось 9 кодов восстановления.",
	enabledEvent:  "Двухфакторная аутентификация включена",
	t0Date:        "14 ноября 2023 г., 22:13 UTC",
}

// Where a page shows its status and a field its error.
const (
	noticeXPath     = `//p[contains(@class,"notice")]`
	fieldErrorXPath = `//p[contains(@class,"field-error")]`
)

// browserJourney is one customer going through the pages in a browser tab.
type browserJourney struct {
	t     *testing.T
	ts    *testServer
	tab   *browsertest.Tab
	w     browserWords
	email string
	// axe, when set, is axe-core's script: every page is checked with it,
	// in light and dark.
	axe string
	// docs marks the journey whose pages are the committed screenshots.
	docs bool
	// secret is the key the enrolment page showed.
	secret string
}

func newBrowserJourney(t *testing.T, w browserWords, email string) *browserJourney {
	ts := startServer(t, nil, nil)
	return &browserJourney{t: t, ts: ts, tab: browsertest.Start(t).NewTab(t), w: w, email: email}
}

// seen records the page the journey has reached: a screenshot always,
// the accessibility check when asked, and for the pages named doc the
// committed screenshots when they are being rewritten.
func (j *browserJourney) seen(name, doc string) {
	j.t.Helper()
	j.tab.Shot(name)
	if j.axe != "" {
		j.tab.CheckAccessibility(j.axe, name)
		j.tab.ColorScheme("dark")
		j.tab.CheckAccessibility(j.axe, name+" (dark)")
		j.tab.ColorScheme("")
	}
	if doc != "" && j.docs && *updateScreenshots {
		for _, scheme := range []string{"light", "dark"} {
			j.tab.ColorScheme(scheme)
			writeScreenshot(j.t, doc+"-"+scheme+".png", j.tab.Shot(name+"-"+scheme))
		}
		j.tab.ColorScheme("")
	}
}

// writeScreenshot stores a PNG under docs/screenshots, compressed harder
// than the browser does, to keep the repository small.
func writeScreenshot(t *testing.T, name string, shot []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("decode screenshot %s: %v", name, err)
	}
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&b, img); err != nil {
		t.Fatalf("encode screenshot %s: %v", name, err)
	}
	dir := filepath.Join(browsertest.RepoRoot(t), "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// at waits for the page whose heading is title and checks its path.
func (j *browserJourney) at(title, path string) {
	j.t.Helper()
	j.tab.Do("wait for the page "+title, chromedp.WaitVisible(browsertest.Heading(title)))
	if got := j.tab.Path(); got != path {
		j.t.Fatalf("page %q: got path %s, want %s", title, got, path)
	}
}

// contains fails the test unless the visible text of sel has want.
func (j *browserJourney) contains(sel, want string) {
	j.t.Helper()
	if got := j.tab.Text(sel); !strings.Contains(got, want) {
		j.t.Fatalf("%s: got %q, want it to contain %q", sel, got, want)
	}
}

// fill clears the field with this label and types text into it.
func (j *browserJourney) fill(label, text string) {
	j.t.Helper()
	// chromedp v0.23.1's SetValue fails to set an empty value, hence
	// the script.
	clear := fmt.Sprintf(`document.evaluate(%q, document, null,
		XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue.value = ""`, browsertest.Field(label))
	j.tab.Do("fill in "+label, chromedp.WaitVisible(browsertest.Field(label)),
		chromedp.Evaluate[chromedp.Void](clear), chromedp.SendKeys(browsertest.Field(label), text))
}

// openMenu opens the account menu in the top-right corner by clicking the
// login it shows.
func (j *browserJourney) openMenu() {
	j.t.Helper()
	j.contains(browsertest.AccountMenu, j.email)
	j.tab.Do("open the account menu", chromedp.Click(browsertest.AccountMenu),
		chromedp.WaitVisible(browsertest.MenuItem(j.w.settings)))
}

// signUp opens the client area, switches to the journey's language when
// it is not English, signs up and comes back to sign in.
func (j *browserJourney) signUp() {
	j.t.Helper()
	j.tab.Do("open the client area", chromedp.Navigate(j.ts.URL+"/"))
	j.at(englishWords.signInTitle, "/login")
	if j.w.lang != "en" {
		j.tab.Do("switch the language", chromedp.Click(browsertest.Button(j.w.langButton)))
		j.at(j.w.signInTitle, "/login")
	}
	if got := browsertest.Eval[string](j.tab, "document.documentElement.lang"); got != j.w.lang {
		j.t.Fatalf("html lang: got %q, want %q", got, j.w.lang)
	}
	j.seen("signin", "signin")

	j.tab.Do("go to sign-up", chromedp.Click(browsertest.Link(j.w.signUpLink)))
	j.at(j.w.signUpTitle, "/signup")
	j.seen("signup", "")
	j.fill(j.w.email, j.email)
	j.fill(j.w.password, browserPW)
	j.tab.Do("sign up", chromedp.Click(browsertest.Button(j.w.signUpSubmit)))
	j.at(j.w.signInTitle, "/login")
	j.contains(noticeXPath, j.w.signedUp)
	j.seen("signin-signed-up", "")
}

// signIn does the password step, from the sign-in page.
func (j *browserJourney) signIn() {
	j.t.Helper()
	j.fill(j.w.email, j.email)
	j.fill(j.w.password, browserPW)
	j.tab.Do("sign in", chromedp.Click(browsertest.Button(j.w.signIn)))
}

// enable turns 2FA on from the home page, as the README's walk through
// says, and returns the recovery codes shown afterwards.
func (j *browserJourney) enable() []string {
	j.t.Helper()
	j.openMenu()
	j.seen("menu", "")
	j.tab.Do("open settings", chromedp.Click(browsertest.MenuItem(j.w.settings)))
	j.at(j.w.settingsTitle, "/settings")
	j.seen("settings-2fa-off", "")

	j.tab.Do("enable 2FA", chromedp.Click(browsertest.Button(j.w.enable)))
	j.at(j.w.setupTitle, "/settings/2fa/setup")
	j.tab.Do("wait for the QR code", chromedp.Poll[chromedp.Void](
		`(qr => qr.complete && qr.naturalWidth > 0)(document.querySelector("img.qr"))`))
	j.checkCodeField(j.w.tempPassword, true)
	j.seen("setup", "setup")

	secret := strings.ReplaceAll(j.tab.Text(`//code[@id="secret-key"]`), " ", "")
	j.secret = secret
	if j.axe != "" {
		// A code of a phone whose clock is 5 minutes fast: the page
		// says so, on the field.
		j.fill(j.w.tempPassword, oathtool.TOTP(j.t, secret, j.ts.Clock.Now().Add(5*time.Minute)))
		j.tab.Do("send a code from a fast clock", chromedp.Click(browsertest.Button(j.w.ok)),
			chromedp.WaitVisible(fieldErrorXPath))
		j.contains(fieldErrorXPath, j.w.clock)
		j.seen("setup-clock-error", "")
	}
	j.fill(j.w.tempPassword, oathtool.TOTP(j.t, secret, j.ts.Clock.Now()))
	j.tab.Do("confirm the code", chromedp.Click(browsertest.Button(j.w.ok)))
	j.at(j.w.enabledTitle, "/settings/2fa/setup")
	codes := browsertest.Eval[[]string](j.tab,
		`[...document.querySelectorAll("ol.codes code")].map(c => c.textContent)`)
	if len(codes) != 10 {
		j.t.Fatalf("got %d recovery codes on the page, want 10", len(codes))
	}
	j.seen("enabled", "")

	j.tab.Do("continue to settings", chromedp.Click(browsertest.Link(j.w.next)))
	j.at(j.w.settingsTitle, "/settings")
	j.contains(`//section[@id="two-factor"]//span[contains(@class,"badge")]`, j.w.on)
	j.seen("settings", "settings")
	return codes
}

// checkCodeField checks the field for a one-time code: numeric keyboard,
// filled in by the phone's one-time-code suggestion, focused on arrival.
func (j *browserJourney) checkCodeField(label string, focused bool) {
	j.t.Helper()
	attrs, err := browsertest.Run(j.tab, chromedp.Attributes(browsertest.Field(label)))
	if err != nil {
		j.t.Fatalf("read the field %s: %v", label, err)
	}
	if attrs["inputmode"] != "numeric" || attrs["autocomplete"] != "one-time-code" {
		j.t.Errorf("field %s: got inputmode=%q autocomplete=%q, want numeric, one-time-code",
			label, attrs["inputmode"], attrs["autocomplete"])
	}
	if focused {
		j.tab.Do("wait for the focus on "+label, chromedp.Poll[chromedp.Void](
			fmt.Sprintf("document.activeElement && document.activeElement.id === %q", attrs["id"])))
	}
}

// securityLog opens the security log from the menu and checks that it
// tells, with the date in the page's language, that 2FA was turned on.
func (j *browserJourney) securityLog() {
	j.t.Helper()
	j.openMenu()
	j.tab.Do("open the security log", chromedp.Click(browsertest.MenuItem(j.w.security)))
	j.at(j.w.securityTitle, "/security")
	j.contains(`//table`, j.w.enabledEvent)
	j.contains(`//table`, j.w.t0Date)
	j.seen("security", "security")
}

// signOut signs out through the menu.
func (j *browserJourney) signOut() {
	j.t.Helper()
	j.openMenu()
	j.tab.Do("sign out", chromedp.Click(browsertest.MenuItem(j.w.signOut)))
	j.at(j.w.signInTitle, "/login")
	j.contains(noticeXPath, j.w.signedOut)
	j.seen("signed-out", "")
}

// run walks the whole journey: sign up, sign in, turn 2FA on, sign out,
// and sign in again with the password and then a code from the app, or
// one of the recovery codes.
func (j *browserJourney) run(withRecovery bool) {
	j.t.Helper()
	j.signUp()
	if j.axe != "" {
		j.fill(j.w.email, j.email)
		j.fill(j.w.password, "not the password")
		j.tab.Do("sign in with a wrong password", chromedp.Click(browsertest.Button(j.w.signIn)),
			chromedp.WaitVisible(fieldErrorXPath))
		j.seen("signin-error", "")
	}
	j.signIn()
	j.at(j.w.homeTitle, "/")
	j.contains(`//section[contains(@class,"recommend")]//h2`, j.w.recommend)
	j.seen("home", "home")

	codes := j.enable()
	j.securityLog()
	j.signOut()

	j.signIn()
	j.at(j.w.codeTitle, "/login/code")
	j.checkCodeField(j.w.code, true)
	j.seen("code", "code")
	if withRecovery {
		j.recover(codes[0])
		return
	}
	// The code that turned 2FA on counts as used: the next one comes
	// from the next 30 seconds.
	j.ts.Clock.Add(30 * time.Second)
	j.fill(j.w.code, oathtool.TOTP(j.t, j.secret, j.ts.Clock.Now()))
	j.tab.Do("send the code", chromedp.Click(browsertest.Button(j.w.signIn)))
	j.at(j.w.homeTitle, "/")
	j.contains(`//dl[contains(@class,"facts")]//span[contains(@class,"badge")]`, j.w.on)
	j.seen("home-2fa-on", "")
}

// recover finishes the code step with a recovery code.
func (j *browserJourney) recover(code string) {
	j.t.Helper()
	j.tab.Do("choose a recovery code", chromedp.Click(browsertest.Link(j.w.useRecovery)))
	j.at(j.w.recoveryTitle, "/login/recovery")
	j.seen("recovery", "")
	j.fill(j.w.recoveryCode, code)
	j.tab.Do("send the recovery code", chromedp.Click(browsertest.Button(j.w.signIn)))
	j.at(j.w.recovered, "/login/recovered")
	j.contains(`//main`, j.w.codesLeft)
	j.seen("recovered", "")
	j.tab.Do("continue home", chromedp.Click(browsertest.Link(j.w.next)))
	j.at(j.w.homeTitle, "/")
	j.contains(`//section[contains(@class,"warn")]//h2`, j.w.viaRecovery)
	j.seen("home-via-recovery", "")
}

func TestBrowserJourney(t *testing.T) {
	j := newBrowserJourney(t, englishWords, "ada@example.com")
	j.docs = true
	j.run(false)
}

func TestBrowserRecoveryCode(t *testing.T) {
	newBrowserJourney(t, englishWords, "grace@example.com").run(true)
}

func TestBrowserRussian(t *testing.T) {
	newBrowserJourney(t, russianWords, "sofia@example.com").run(false)
}

// TestBrowserAccessibility checks every page of the journey with
// axe-core, in light and dark, also with errors on a field.
func TestBrowserAccessibility(t *testing.T) {
	axe := browsertest.AxeScript(t)
	j := newBrowserJourney(t, englishWords, "ada@example.com")
	j.axe = axe
	j.run(true)

	// The check itself must see a fault: an input without a label.
	browsertest.Eval[chromedp.Void](j.tab,
		`document.querySelector("main").append(document.createElement("input"))`)
	var found bool
	for _, v := range j.tab.Axe(axe) {
		found = found || v.ID == "label"
	}
	if !found {
		t.Errorf("axe-core did not report an input without a label")
	}
}

// TestBrowserAccountMenuKeyboard opens the account menu with the keyboard
// alone, with JavaScript on and off: the menu is a <details>, which
// needs no script.
func TestBrowserAccountMenuKeyboard(t *testing.T) {
	ts := startServer(t, nil, nil)
	b := browsertest.Start(t)
	for _, scripts := range []bool{true, false} {
		t.Run(fmt.Sprintf("javascript=%v", scripts), func(t *testing.T) {
			j := &browserJourney{t: t, ts: ts, tab: b.NewTab(t), w: englishWords,
				email: fmt.Sprintf("keys-%v@example.com", scripts)}
			j.tab.ScriptsOff(!scripts)
			j.signUp()
			j.signIn()
			j.at(englishWords.homeTitle, "/")
			j.keyboardMenu(scripts)
			j.copyButton(scripts)
		})
	}
}

// focused fails the test unless the element in focus matches the CSS
// selector.
func (j *browserJourney) focused(css string) {
	j.t.Helper()
	expr := fmt.Sprintf("document.activeElement.matches(%q)", css)
	if !browsertest.Eval[bool](j.tab, expr) {
		got := browsertest.Eval[string](j.tab, "document.activeElement.outerHTML.slice(0, 80)")
		j.t.Fatalf("focus: got %s, want %s", got, css)
	}
}

// keyboardMenu reaches the account menu with Tab, opens it with Enter and
// follows its first item, Settings.
func (j *browserJourney) keyboardMenu(scripts bool) {
	j.t.Helper()
	const summary = "details.account-menu > summary"
	for _, css := range []string{"a.skip", "a.brand", summary} {
		j.tab.Do("press Tab", chromedp.KeyEvent(kb.Tab))
		j.focused(css)
	}
	style := browsertest.Eval[string](j.tab, "getComputedStyle(document.activeElement).outlineStyle")
	if style == "none" {
		j.t.Errorf("the focused menu shows no outline")
	}
	j.tab.Do("open the menu with Enter", chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(browsertest.MenuItem(j.w.settings)))
	j.seen("menu-keyboard", "")
	if scripts {
		// The script closes the menu on Escape and gives the focus back.
		j.tab.Do("close the menu with Escape", chromedp.KeyEvent(kb.Escape),
			chromedp.Poll[chromedp.Void](`!document.querySelector("details.account-menu").open`))
		j.focused(summary)
		j.tab.Do("open the menu again", chromedp.KeyEvent(kb.Enter),
			chromedp.WaitVisible(browsertest.MenuItem(j.w.settings)))
	}
	j.tab.Do("go to the first item", chromedp.KeyEvent(kb.Tab))
	j.focused(`.menu-items a[href="/settings"]`)
	j.tab.Do("follow it with Enter", chromedp.KeyEvent(kb.Enter))
	j.at(j.w.settingsTitle, "/settings")
}

// copyButton checks that the scripts really were on or off: the copy
// button of the enrolment page is shown by the script only.
func (j *browserJourney) copyButton(scripts bool) {
	j.t.Helper()
	j.tab.Do("open the enrolment", chromedp.Click(browsertest.Button(j.w.enable)))
	j.at(j.w.setupTitle, "/settings/2fa/setup")
	hidden := browsertest.Eval[bool](j.tab, `document.querySelector("button.copy").hidden`)
	if hidden == scripts {
		j.t.Errorf("copy button hidden=%v with scripts=%v, want hidden=%v", hidden, scripts, !scripts)
	}
	j.seen("setup", "")
}
