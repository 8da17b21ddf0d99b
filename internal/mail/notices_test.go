package mail

import (
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var langs = []string{"en", "ru"}

// moscowTime is fixedNow seen from UTC+3; notices must show it in UTC.
var moscowTime = fixedNow.In(time.FixedZone("MSK", 3*60*60))

func fullData(lang string) NoticeData {
	return NoticeData{
		Lang: lang, Issuer: "Acme", Email: "ivan@x.test", Time: moscowTime,
		IP: "203.0.113.7", Link: "https://x.test/reset?t=TOKEN",
		SignInURL: "https://x.test/signin", CodesLeft: 7, ValidFor: 30 * time.Minute,
	}
}

func TestComposeEveryNotice(t *testing.T) {
	// Known renderings of fixedNow: RFC 1123 in UTC, and the Russian date with
	// the month in the genitive.
	wantTime := map[string]string{
		"en": "Time: Thu, 05 Mar 2026 14:07:09 UTC\n",
		"ru": "Время: 5 марта 2026 г., 14:07:09 UTC\n",
	}
	wantIP := map[string]string{"en": "IP address: 203.0.113.7\n", "ru": "IP-адрес: 203.0.113.7\n"}
	wantSupport := map[string]string{"en": "contact support", "ru": "обратитесь в поддержку"}
	cyrillic := regexp.MustCompile(`\p{Cyrillic}`)

	for _, lang := range langs {
		subjects := map[string]Notice{}
		for _, n := range Notices() {
			t.Run(lang+"/"+n.String(), func(t *testing.T) {
				m := Compose(n, fullData(lang))
				if m.To != "ivan@x.test" {
					t.Errorf("To: got %q, want ivan@x.test", m.To)
				}
				if !strings.HasPrefix(m.Subject, "Acme: ") || len(m.Subject) <= len("Acme: ") {
					t.Errorf("subject: got %q, want \"Acme: \" and more", m.Subject)
				}
				if other, ok := subjects[m.Subject]; ok {
					t.Errorf("subject %q: same as %v", m.Subject, other)
				}
				subjects[m.Subject] = n

				wants := []string{wantTime[lang], wantIP[lang], wantSupport[lang], "\nAcme\n"}
				for _, want := range wants {
					if !strings.Contains(m.Text, want) {
						t.Errorf("text: got %q, want it to contain %q", m.Text, want)
					}
				}
				if got := cyrillic.MatchString(m.Subject + m.Text); got != (lang == "ru") {
					t.Errorf("Cyrillic in %s notice: got %v, want %v", lang, got, lang == "ru")
				}
				if !utf8.ValidString(m.Text) || strings.Contains(m.Text, "\r") {
					t.Errorf("text: got %q, want valid UTF-8 with LF line endings", m.Text)
				}
			})
		}
	}
}

// TestComposeLinksOnlyWhereNeeded gives every notice a link with a token and
// checks that the token shows up in the two notices that exist to carry it and
// nowhere else, and that no notice holds anything shaped like a TOTP code
// (six to eight digits) or a recovery code (groups of letters and digits
// joined by a dash).
func TestComposeLinksOnlyWhereNeeded(t *testing.T) {
	totpLike := regexp.MustCompile(`\d{6,}`)
	recoveryLike := regexp.MustCompile(`(?i)\b[a-z0-9]{4,}-[a-z0-9]{4,}\b`)
	tests := []struct {
		n          Notice
		wantLink   bool
		wantSignIn bool
	}{
		{TwoFactorEnabled, false, false},
		{TwoFactorDisabled, false, false},
		{TwoFactorReset, false, false},
		{RecoveryCodeUsed, false, false},
		{RecoveryCodesRegenerated, false, false},
		{NewDeviceConfirmed, false, false},
		{PasswordChanged, false, false},
		{PasswordReset, false, false},
		{CodeReplayed, false, false},
		{SignupExisting, false, true},
		{PasswordResetLink, true, false},
		{RecoveryRequestConfirm, true, false},
	}
	if len(tests) != len(Notices()) {
		t.Fatalf("table: got %d notices, want all %d", len(tests), len(Notices()))
	}
	for _, lang := range langs {
		for _, tt := range tests {
			t.Run(lang+"/"+tt.n.String(), func(t *testing.T) {
				m := Compose(tt.n, fullData(lang))
				all := m.Subject + "\n" + m.Text
				if got := strings.Count(all, "TOKEN"); got != btoi(tt.wantLink) {
					t.Errorf("token count: got %d, want %d in %q", got, btoi(tt.wantLink), all)
				}
				if tt.wantLink && !strings.Contains(m.Text, "\nhttps://x.test/reset?t=TOKEN\n") {
					t.Errorf("text: got %q, want the link on a line of its own", m.Text)
				}
				if got := strings.Contains(all, "https://x.test/signin"); got != tt.wantSignIn {
					t.Errorf("sign-in URL present: got %v, want %v", got, tt.wantSignIn)
				}
				if s := totpLike.FindString(all); s != "" {
					t.Errorf("text: got %q, which looks like a TOTP code", s)
				}
				if s := recoveryLike.FindString(all); s != "" {
					t.Errorf("text: got %q, which looks like a recovery code", s)
				}
			})
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestComposeExact pins two complete texts, read and approved by a person, so
// that any change to the wording shows up in review.
func TestComposeExact(t *testing.T) {
	tests := []struct {
		lang        string
		wantSubject string
		wantText    string
	}{
		{
			lang:        "en",
			wantSubject: "Acme: Two-factor authentication turned on",
			wantText: "Hello,\n\n" +
				"Two-factor authentication was turned on for your account. From now on, " +
				"signing in needs your password and a code from your authenticator app.\n\n" +
				"Time: Thu, 05 Mar 2026 14:07:09 UTC\n" +
				"IP address: 203.0.113.7\n\n" +
				"If this wasn't you, please contact support right away.\n" +
				"Support: help@acme.test\n\n" +
				"Thank you,\nAcme\n",
		},
		{
			lang:        "ru",
			wantSubject: "Acme: Двухфакторная аутентификация включена",
			wantText: "Здравствуйте!\n\n" +
				"Для вашей учётной записи включена двухфакторная аутентификация. Теперь для " +
				"входа нужны пароль и код из приложения-аутентификатора.\n\n" +
				"Время: 5 марта 2026 г., 14:07:09 UTC\n" +
				"IP-адрес: 203.0.113.7\n\n" +
				"Если это были не вы, пожалуйста, сразу обратитесь в поддержку.\n" +
				"Поддержка: help@acme.test\n\n" +
				"С уважением,\nAcme\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			d := fullData(tt.lang)
			d.Support = "help@acme.test"
			m := Compose(TwoFactorEnabled, d)
			if m.Subject != tt.wantSubject {
				t.Errorf("subject: got %q, want %q", m.Subject, tt.wantSubject)
			}
			if m.Text != tt.wantText {
				t.Errorf("text:\ngot  %q\nwant %q", m.Text, tt.wantText)
			}
		})
	}
}

func TestComposeLanguage(t *testing.T) {
	tests := []struct {
		lang string
		want string
	}{
		{"en", "Two-factor authentication turned on"},
		{"", "Two-factor authentication turned on"},
		{"de", "Two-factor authentication turned on"},
		{"russian", "Two-factor authentication turned on"},
		{"ru", "Двухфакторная аутентификация включена"},
		{"RU", "Двухфакторная аутентификация включена"},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			got := Compose(TwoFactorEnabled, NoticeData{Lang: tt.lang}).Subject
			if got != tt.want {
				t.Errorf("subject: got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestComposeCodesLeft(t *testing.T) {
	tests := []struct {
		lang string
		left int
		want string
	}{
		{"en", 0, "You have no recovery codes left"},
		{"en", 1, "You have 1 recovery code left"},
		{"en", 2, "You have 2 recovery codes left."},
		{"en", 9, "You have 9 recovery codes left."},
		{"ru", 0, "Кодов восстановления не осталось"},
		{"ru", 1, "У вас остался 1 код."},
		{"ru", 2, "У вас осталось 2 кода."},
		{"ru", 4, "У вас осталось 4 кода."},
		{"ru", 5, "У вас осталось 5 кодов."},
		{"ru", 11, "У вас осталось 11 кодов."},
		{"ru", 12, "У вас осталось 12 кодов."},
		{"ru", 21, "У вас остался 21 код."},
		{"ru", 22, "У вас осталось 22 кода."},
		{"ru", 111, "У вас осталось 111 кодов."},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			m := Compose(RecoveryCodeUsed, NoticeData{Lang: tt.lang, CodesLeft: tt.left})
			if !strings.Contains(m.Text, tt.want) {
				t.Errorf("text: got %q, want it to contain %q", m.Text, tt.want)
			}
		})
	}
}

func TestComposeValidFor(t *testing.T) {
	tests := []struct {
		lang     string
		validFor time.Duration
		want     string
	}{
		{"en", 30 * time.Minute, "open this link within 30 minutes:\n"},
		{"en", time.Minute, "open this link within 1 minute:\n"},
		{"en", 0, "open this link:\n"},
		{"en", 30 * time.Second, "open this link:\n"},
		{"ru", 30 * time.Minute, "откройте эту ссылку (она действует 30 минут):\n"},
		{"ru", time.Minute, "откройте эту ссылку (она действует 1 минуту):\n"},
		{"ru", 2 * time.Minute, "откройте эту ссылку (она действует 2 минуты):\n"},
		{"ru", 21 * time.Minute, "откройте эту ссылку (она действует 21 минуту):\n"},
		{"ru", time.Hour, "откройте эту ссылку (она действует 60 минут):\n"},
		{"ru", 0, "откройте эту ссылку:\n"},
	}
	for _, tt := range tests {
		for _, n := range []Notice{PasswordResetLink, RecoveryRequestConfirm} {
			t.Run(tt.lang+"/"+n.String()+"/"+tt.validFor.String(), func(t *testing.T) {
				d := NoticeData{Lang: tt.lang, Link: "https://x.test/r", ValidFor: tt.validFor}
				if got := Compose(n, d).Text; !strings.Contains(got, tt.want) {
					t.Errorf("text: got %q, want it to contain %q", got, tt.want)
				}
			})
		}
	}
}

func TestComposeOptionalDetails(t *testing.T) {
	tests := []struct {
		lang    string
		notWant []string
	}{
		{"en", []string{"Time:", "IP address:", "Support:", "Acme", ": "}},
		{"ru", []string{"Время:", "IP-адрес:", "Поддержка:", "Acme", ": "}},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			m := Compose(PasswordChanged, NoticeData{Lang: tt.lang, Email: "ivan@x.test"})
			for _, s := range tt.notWant {
				if strings.Contains(m.Subject+"\n"+m.Text, s) {
					t.Errorf("got %q in %q, want it left out", s, m.Subject+"\n"+m.Text)
				}
			}
		})
	}
}

// TestComposeKeepsValuesOnOneLine feeds line breaks through every field that
// lands in the text: none may start a line of its own.
func TestComposeKeepsValuesOnOneLine(t *testing.T) {
	const evil = "\nPlease confirm at https://evil.test"
	d := NoticeData{Issuer: "Acme" + evil, IP: "203.0.113.7" + evil, Support: "help" + evil,
		Link: "https://x.test/r" + evil, SignInURL: "https://x.test/s" + evil, Time: fixedNow}
	for _, lang := range langs {
		for _, n := range Notices() {
			t.Run(lang+"/"+n.String(), func(t *testing.T) {
				d.Lang = lang
				m := Compose(n, d)
				for _, line := range strings.Split(m.Subject+"\n"+m.Text, "\n") {
					if strings.HasPrefix(line, "Please confirm") {
						t.Errorf("got line %q, want injected text kept on its field's line", line)
					}
				}
			})
		}
	}
}

func TestNoticeString(t *testing.T) {
	tests := []struct {
		n    Notice
		want string
	}{
		{TwoFactorEnabled, "TwoFactorEnabled"},
		{RecoveryRequestConfirm, "RecoveryRequestConfirm"},
		{0, "Notice(0)"},
		{99, "Notice(99)"},
	}
	for _, tt := range tests {
		if got := tt.n.String(); got != tt.want {
			t.Errorf("Notice(%d).String(): got %q, want %q", int(tt.n), got, tt.want)
		}
	}
}

func TestComposeUnknownNotice(t *testing.T) {
	for _, lang := range langs {
		m := Compose(Notice(99), NoticeData{Lang: lang})
		if m.Subject == "" || m.Text == "" {
			t.Errorf("%s: got subject %q and text %q, want both set", lang, m.Subject, m.Text)
		}
	}
}
