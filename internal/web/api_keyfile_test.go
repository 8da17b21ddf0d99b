package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/clientarea/clientarea/internal/auth"
	"github.com/clientarea/clientarea/internal/i18n"
	"github.com/clientarea/clientarea/internal/oathtool"
)

// TestKeyFileDownload: the Save key file holds what the brief lists while
// the enrolment is pending, and is gone for good after activation.
func TestKeyFileDownload(t *testing.T) {
	oathtool.Require(t)
	f := pendingSetup(newEnv(t))
	setup := f.c.call("POST", "/api/v1/account/2fa/setup", nil).json(t)
	got := f.c.call("GET", "/api/v1/account/2fa/setup/key", nil)
	got.want(t, http.StatusOK, "")
	headers := map[string]string{
		"Content-Type":        "text/plain; charset=utf-8",
		"Content-Disposition": `attachment; filename="acme-client-area-2fa-key.txt"`,
		"Cache-Control":       "no-store",
	}
	for k, want := range headers {
		if v := got.header.Get(k); v != want {
			t.Errorf("got %s %q, want %q", k, v, want)
		}
	}
	body := string(got.body)
	secret := setup["secret"].(string)
	grouped := secret[:4] + " " + secret[4:8] + " " + secret[8:12] // first groups of four
	for _, want := range []string{"Acme Client Area", alice, secret, grouped,
		setup["otpauth_uri"].(string), "Use a recovery code instead"} {
		if !strings.Contains(body, want) {
			t.Errorf("the key file lacks %q:\n%s", want, body)
		}
	}

	enabled := f.c.call("POST", "/api/v1/account/2fa/enable", map[string]string{"code": f.code()})
	enabled.want(t, http.StatusOK, "")
	codes := stringList(t, enabled.json(t)["recovery_codes"])
	for i, c := range codes {
		if !strings.Contains(body, c) {
			t.Errorf("the key file lacks recovery code %d", i+1)
		}
	}
	f.c.call("GET", "/api/v1/account/2fa/setup/key", nil).want(t, http.StatusNotFound, "not_found")
}

// TestKeyFileNewDevice: for a new device the file says so, keeps the
// account's recovery codes out, and says they stay valid.
func TestKeyFileNewDevice(t *testing.T) {
	oathtool.Require(t)
	f := withTwoFactor(newEnv(t))
	f.c.call("POST", "/api/v1/account/2fa/setup", nil).want(t, http.StatusOK, "")
	got := f.c.call("GET", "/api/v1/account/2fa/setup/key", nil)
	got.want(t, http.StatusOK, "")
	body := string(got.body)
	for _, want := range []string{"new device", "existing recovery codes stay valid"} {
		if !strings.Contains(body, want) {
			t.Errorf("the new-device key file lacks %q:\n%s", want, body)
		}
	}
	for _, c := range f.codes {
		if strings.Contains(body, c) {
			t.Fatalf("the new-device key file shows a recovery code")
		}
	}
}

func TestKeyFileName(t *testing.T) {
	tests := []struct{ issuer, want string }{
		{"Client Area", "client-area-2fa-key.txt"},
		{"Acme & Co.", "acme-co-2fa-key.txt"},
		{"  --Acme--  ", "acme-2fa-key.txt"},
		{`Evil"; filename=x.exe`, "evil-filename-x-exe-2fa-key.txt"},
		{"Клиент", "clientarea-2fa-key.txt"},
		{"Café 24", "caf-24-2fa-key.txt"},
		{"", "clientarea-2fa-key.txt"},
		{strings.Repeat("ab ", 40), strings.Repeat("ab-", 21) + "a-2fa-key.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.issuer, func(t *testing.T) {
			if got := keyFileName(tt.issuer); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// fixedEnrolment is an enrolment with known values: the secret of RFC
// 6238's SHA-1 vectors in Base32, and its key URI.
func fixedEnrolment(newDevice bool) auth.Enrolment {
	e := auth.Enrolment{Issuer: "Acme Client Area", AccountName: "alice@example.test",
		Secret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
		URI: "otpauth://totp/Acme%20Client%20Area:alice%40example.test?algorithm=SHA1" +
			"&digits=6&issuer=Acme%20Client%20Area&period=30" +
			"&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
		RecoveryCodes: []string{"ABCD-EFGH-JKMN", "PQRS-TVWX-YZ23"}, NewDevice: newDevice}
	if newDevice {
		e.RecoveryCodes = nil
	}
	return e
}

// keyFileEnglish is the English key file of fixedEnrolment(false), as it
// was written before the file was translated.
const keyFileEnglish = `Two-factor authentication key
=============================

Keep this file private, like a password: anyone who has it can make
your sign-in codes. Do not share it or a screenshot of the QR code.

Issuer:      Acme Client Area
Account:     alice@example.test
Secret key:  GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ
  (plain)    GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
Key URI:     otpauth://totp/Acme%20Client%20Area:alice%40example.test?algorithm=SHA1` +
	`&digits=6&issuer=Acme%20Client%20Area&period=30&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ

To add the account to an authenticator app, choose to add an account,
then "enter a setup key", and type the secret key (spaces do not
matter). Choose a time-based key; the code has 6 digits and changes
every 30 seconds. The phone must set its date and time automatically.

Recovery codes
--------------
They work once two-factor authentication is turned on. If you lose your
phone, choose "Use a recovery code instead" at the code step of sign-in
and type one code. Each code works only once.

 1. ABCD-EFGH-JKMN
 2. PQRS-TVWX-YZ23
`

// keyFileValues are the lines of fixedEnrolment(false)'s file that hold
// values, from the label's end: the same bytes in every language.
var keyFileValues = []string{
	"  Acme Client Area\n",
	"  alice@example.test\n",
	"  GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ\n",
	"  GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n",
	"  otpauth://totp/Acme%20Client%20Area:alice%40example.test?algorithm=SHA1" +
		"&digits=6&issuer=Acme%20Client%20Area&period=30" +
		"&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n",
	"\n 1. ABCD-EFGH-JKMN\n 2. PQRS-TVWX-YZ23\n",
}

// TestKeyFileText: the English file is the one shipped before; the
// Russian one has Russian words around the very same values.
func TestKeyFileText(t *testing.T) {
	cat, err := i18n.New()
	if err != nil {
		t.Fatalf("catalogue: %v", err)
	}
	en, ru := cat.Localizer(i18n.English), cat.Localizer(i18n.Russian)
	if got := string(keyFile(en, fixedEnrolment(false))); got != keyFileEnglish {
		t.Errorf("English key file:\ngot\n%s\nwant\n%s", got, keyFileEnglish)
	}
	tests := []struct {
		name      string
		newDevice bool
		want      []string
		wantNot   []string
	}{
		{"first enrolment", false, append([]string{
			"Ключ двухфакторной аутентификации\n=================================\n",
			"Сервис:          Acme Client Area\n",
			"Учётная запись:  alice@example.test\n",
			"  (слитно)       GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n",
			"Коды восстановления\n-------------------\n",
			"«Использовать код восстановления»"}, keyFileValues...),
			[]string{"новое устройство", "keyfile."}},
		{"new device", true, []string{"Ключ двухфакторной аутентификации\n",
			"Этот ключ — для нового устройства.", "прежние коды восстановления остаются",
			"Секретный ключ:  GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ\n"},
			[]string{"ABCD-EFGH-JKMN", "-------------------", "keyfile."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(keyFile(ru, fixedEnrolment(tt.newDevice)))
			for _, want := range tt.want {
				if !strings.Contains(got, want) {
					t.Errorf("the Russian key file lacks %q:\n%s", want, got)
				}
			}
			for _, bad := range tt.wantNot {
				if strings.Contains(got, bad) {
					t.Errorf("the Russian key file has %q:\n%s", bad, got)
				}
			}
			checkWrapped(t, got)
		})
	}
}

// checkWrapped fails for a line of prose longer than the file's width:
// only the lines of values (the key URI) may be longer.
func checkWrapped(t *testing.T, file string) {
	t.Helper()
	for line := range strings.Lines(file) {
		line = strings.TrimSuffix(line, "\n")
		if n := utf8.RuneCountInString(line); n > 71 && !strings.Contains(line, "otpauth://") {
			t.Errorf("got a line of %d characters, want at most 71: %q", n, line)
		}
	}
}

// TestKeyFileAPILanguage: the API serves the file in the language stored
// in the account, whatever the request's own headers say, with the same
// values, name and headers in both languages.
func TestKeyFileAPILanguage(t *testing.T) {
	oathtool.Require(t)
	f := pendingSetup(newEnv(t))
	setup := f.c.call("POST", "/api/v1/account/2fa/setup", nil).json(t)
	secret, uri := setup["secret"].(string), setup["otpauth_uri"].(string)
	english := string(f.c.call("GET", "/api/v1/account/2fa/setup/key", nil).body)

	ctx := context.Background()
	a, err := f.e.svc.AccountByEmail(ctx, alice)
	if err != nil {
		t.Fatalf("account: %v", err)
	}
	if err := f.e.svc.SetLang(ctx, a, "ru"); err != nil {
		t.Fatalf("set language: %v", err)
	}
	h := http.Header{"Accept-Language": {"en-US,en;q=0.9"}, "Cookie": {"lang=en"}}
	got := f.c.raw("GET", "/api/v1/account/2fa/setup/key", h, nil)
	got.want(t, http.StatusOK, "")
	headers := map[string]string{
		"Content-Type":        "text/plain; charset=utf-8",
		"Content-Disposition": `attachment; filename="acme-client-area-2fa-key.txt"`,
		"Cache-Control":       "no-store",
	}
	for k, want := range headers {
		if v := got.header.Get(k); v != want {
			t.Errorf("got %s %q, want %q", k, v, want)
		}
	}
	russian := string(got.body)
	if !strings.HasPrefix(russian, "Ключ двухфакторной аутентификации\n") {
		t.Errorf("got a key file beginning %.60q, want the Russian heading", russian)
	}
	values := []string{"  Acme Client Area\n", "  " + alice + "\n", "  " + secret + "\n",
		"  " + uri + "\n"}
	codes := stringList(t, f.c.call("POST", "/api/v1/account/2fa/enable",
		map[string]string{"code": f.code()}).json(t)["recovery_codes"])
	for i, c := range codes {
		values = append(values, fmt.Sprintf("\n%2d. %s\n", i+1, c))
	}
	for _, want := range values {
		if !strings.Contains(english, want) || !strings.Contains(russian, want) {
			t.Errorf("got %q in English %v, in Russian %v; want it in both", want,
				strings.Contains(english, want), strings.Contains(russian, want))
		}
	}
}

// TestKeyFilePageLanguage: the Save key link of the pages serves the file
// in the page's language (the switcher's cookie, else Accept-Language),
// not in the account's.
func TestKeyFilePageLanguage(t *testing.T) {
	e := newEnv(t)
	b := newBrowser(e)
	b.lang = "en-US"
	home := b.signUpAndIn("olga@example.com")
	setup := b.follow(b.submit(b.get("/settings"), "/settings/2fa/enable", nil),
		"/settings/2fa/setup")
	secret := secretOf(t, setup)
	// The account keeps English from the sign-in: only the page's
	// language can make the file Russian before the switcher is used.
	a, err := e.svc.AccountByEmail(context.Background(), "olga@example.com")
	if err != nil || a.Lang != "en" {
		t.Fatalf("account language after an English sign-in: got %q (%v), want en", a.Lang, err)
	}

	tests := []struct {
		name, lang, heading string
		switchTo            string
	}{
		{"Accept-Language ru", "ru-RU,ru;q=0.9", "Ключ двухфакторной аутентификации\n", ""},
		{"Accept-Language en", "en", "Two-factor authentication key\n", ""},
		{"switcher ru over en", "en", "Ключ двухфакторной аутентификации\n", "ru"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b.lang = tt.lang
			if tt.switchTo != "" {
				b.follow(b.submit(home, "/lang", map[string]string{"lang": tt.switchTo}), "/")
			}
			key := b.get("/settings/2fa/setup/key")
			if key.status != http.StatusOK || !strings.HasPrefix(key.body, tt.heading) {
				t.Fatalf("got %d %.60q, want 200 beginning %q", key.status, key.body, tt.heading)
			}
			if !strings.Contains(key.body, "  "+secret+"\n") {
				t.Errorf("the key file lacks the secret:\n%s", key.body)
			}
			if got, want := key.header.Get("Content-Disposition"),
				`attachment; filename="acme-client-area-2fa-key.txt"`; got != want {
				t.Errorf("got Content-Disposition %q, want %q", got, want)
			}
		})
	}
}
