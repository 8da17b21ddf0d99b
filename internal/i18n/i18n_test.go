package i18n

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/clientarea/clientarea/internal/auth"
)

func newCatalogue(t *testing.T) *Catalogue {
	t.Helper()
	c, err := New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// TestCatalogueComplete fails when a key lacks a language, a plural form,
// or has other placeholders in one language than in the other: New
// refuses such a catalogue, and this checks each key again by itself.
func TestCatalogueComplete(t *testing.T) {
	c := newCatalogue(t)
	if len(c.Keys()) < 100 {
		t.Fatalf("got %d keys, want the full catalogue", len(c.Keys()))
	}
	for _, key := range c.Keys() {
		if err := check(key, c.msgs[key]); err != nil {
			t.Errorf("%v", err)
		}
		for _, l := range Langs() {
			if got := c.Localizer(l).T(key); strings.TrimSpace(got) == "" || got == key {
				t.Errorf("T(%q) in %s = %q, want a text", key, l, got)
			}
		}
	}
}

func TestParseRefusesIncomplete(t *testing.T) {
	tests := []struct {
		name, json string
	}{
		{"no russian", `{"a": {"en": "A"}}`},
		{"no english", `{"a": {"ru": "А"}}`},
		{"empty text", `{"a": {"en": "A", "ru": " "}}`},
		{"unknown language", `{"a": {"en": "A", "ru": "А", "de": "A"}}`},
		{"placeholder missing", `{"a": {"en": "Hello {email}", "ru": "Привет"}}`},
		{"placeholder renamed", `{"a": {"en": "{email}", "ru": "{mail}"}}`},
		{"russian plural lacks few", `{"a": {"en": {"one": "{n} x", "other": "{n} xs"},
			"ru": {"one": "{n} а", "many": "{n} б"}}}`},
		{"english plural lacks other", `{"a": {"en": {"one": "{n} x"},
			"ru": {"one": "{n} а", "few": "{n} б", "many": "{n} в"}}}`},
		{"extra plural form", `{"a": {"en": {"one": "x", "few": "y", "other": "z"},
			"ru": {"one": "а", "few": "б", "many": "в"}}}`},
		{"not json", `{"a": `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parse([]byte(tt.json)); err == nil {
				t.Errorf("parse(%s) succeeded, want an error", tt.json)
			}
		})
	}
	ok := `{"a": {"en": "Hi {email}", "ru": "{email}, привет"},
		"b": {"en": {"one": "{n} code", "other": "{n} codes"},
		"ru": {"one": "{n} код", "few": "{n} кода", "many": "{n} кодов"}}}`
	if _, err := parse([]byte(ok)); err != nil {
		t.Errorf("parse of a complete catalogue: %v", err)
	}
}

func TestPluralForm(t *testing.T) {
	tests := []struct {
		lang Lang
		n    int
		want Form
	}{
		{English, 0, Other}, {English, 1, One}, {English, 2, Other}, {English, 21, Other},
		{Russian, 0, Many}, {Russian, 1, One}, {Russian, 2, Few}, {Russian, 3, Few},
		{Russian, 4, Few}, {Russian, 5, Many}, {Russian, 10, Many}, {Russian, 11, Many},
		{Russian, 12, Many}, {Russian, 14, Many}, {Russian, 21, One}, {Russian, 22, Few},
		{Russian, 25, Many}, {Russian, 101, One}, {Russian, 111, Many}, {Russian, 112, Many},
		{Russian, 122, Few}, {Russian, -1, One},
	}
	for _, tt := range tests {
		if got := PluralForm(tt.lang, tt.n); got != tt.want {
			t.Errorf("PluralForm(%s, %d) = %q, want %q", tt.lang, tt.n, got, tt.want)
		}
	}
}

func TestN(t *testing.T) {
	c := newCatalogue(t)
	tests := []struct {
		lang Lang
		n    int
		want string
	}{
		{Russian, 1, "1 код восстановления"},
		{Russian, 2, "2 кода восстановления"},
		{Russian, 5, "5 кодов восстановления"},
		{Russian, 11, "11 кодов восстановления"},
		{Russian, 21, "21 код восстановления"},
		{Russian, 0, "0 кодов восстановления"},
		{English, 1, "1 recovery code"},
		{English, 10, "10 recovery codes"},
	}
	for _, tt := range tests {
		if got := c.Localizer(tt.lang).N("codes.count", tt.n); got != tt.want {
			t.Errorf("N(codes.count, %d) in %s = %q, want %q", tt.n, tt.lang, got, tt.want)
		}
	}
}

func TestT(t *testing.T) {
	l := newCatalogue(t).Localizer(Russian)
	if got, want := l.T("home.lead", "email", "a@b.test"), "Вы вошли как a@b.test."; got != want {
		t.Errorf("T(home.lead) = %q, want %q", got, want)
	}
	if got, want := l.T("no.such.key"), "no.such.key"; got != want {
		t.Errorf("T of an unknown key = %q, want %q", got, want)
	}
	if got, want := l.T("settings.title", "unused"), "Настройки"; got != want {
		t.Errorf("T with an odd argument = %q, want %q", got, want)
	}
	if got := newCatalogue(t).Localizer("de").Lang(); got != English {
		t.Errorf("Localizer(de).Lang() = %q, want en", got)
	}
}

func TestDates(t *testing.T) {
	c := newCatalogue(t)
	moscow := time.FixedZone("MSK", 3*60*60)
	at := time.Date(2026, time.March, 2, 17, 5, 0, 0, moscow) // 14:05 UTC
	tests := []struct {
		lang           Lang
		date, dateTime string
	}{
		{English, "2 March 2026", "2 March 2026, 14:05 UTC"},
		{Russian, "2 марта 2026 г.", "2 марта 2026 г., 14:05 UTC"},
	}
	for _, tt := range tests {
		l := c.Localizer(tt.lang)
		if got := l.Date(at); got != tt.date {
			t.Errorf("Date in %s = %q, want %q", tt.lang, got, tt.date)
		}
		if got := l.DateTime(at); got != tt.dateTime {
			t.Errorf("DateTime in %s = %q, want %q", tt.lang, got, tt.dateTime)
		}
	}
	months := []string{"января", "февраля", "марта", "апреля", "мая", "июня", "июля",
		"августа", "сентября", "октября", "ноября", "декабря"}
	for i, want := range months {
		d := time.Date(2025, time.Month(i+1), 15, 0, 0, 0, 0, time.UTC)
		if got := c.Localizer(Russian).Date(d); got != fmt.Sprintf("15 %s 2025 г.", want) {
			t.Errorf("Date(%s) in ru = %q, want month %q", d.Format(time.DateOnly), got, want)
		}
	}
}

func TestDuration(t *testing.T) {
	c := newCatalogue(t)
	tests := []struct {
		d      time.Duration
		en, ru string
	}{
		{time.Second, "1 second", "1 секунду"},
		{30 * time.Second, "30 seconds", "30 секунд"},
		{1500 * time.Millisecond, "2 seconds", "2 секунды"},
		{21 * time.Second, "21 seconds", "21 секунду"},
		{time.Minute, "1 minute", "1 минуту"},
		{90 * time.Second, "2 minutes", "2 минуты"},
		{-5 * time.Minute, "5 minutes", "5 минут"},
		{15 * time.Minute, "15 minutes", "15 минут"},
		{time.Hour, "1 hour", "1 час"},
		{3 * time.Hour, "3 hours", "3 часа"},
	}
	for _, tt := range tests {
		if got := c.Localizer(English).Duration(tt.d); got != tt.en {
			t.Errorf("Duration(%v) in en = %q, want %q", tt.d, got, tt.en)
		}
		if got := c.Localizer(Russian).Duration(tt.d); got != tt.ru {
			t.Errorf("Duration(%v) in ru = %q, want %q", tt.d, got, tt.ru)
		}
	}
}

func TestNegotiate(t *testing.T) {
	c := newCatalogue(t)
	tests := []struct {
		choice, header string
		want           Lang
	}{
		{"ru", "en-US,en;q=0.9", Russian},
		{"en", "ru-RU,ru;q=0.9", English},
		{" RU ", "", Russian},
		{"de", "ru-RU,ru;q=0.9,en;q=0.8", Russian},
		{"", "ru", Russian},
		{"", "en-GB", English},
		{"", "de-DE,ru;q=0.7,en;q=0.5", Russian},
		{"", "de-DE,fr;q=0.7", English},
		{"", "", English},
		{"", "*", English},
		{"", "not a header;;;", English},
		{"", strings.Repeat("ru,", 1000), English},
	}
	for _, tt := range tests {
		if got := c.Negotiate(tt.choice, tt.header); got != tt.want {
			t.Errorf("Negotiate(%q, %.40q) = %q, want %q", tt.choice, tt.header, got, tt.want)
		}
	}
}

// TestErrorEveryCode checks that every auth error code has a message in
// every context and language, and that the service's English message is
// never what the customer reads.
func TestErrorEveryCode(t *testing.T) {
	c := newCatalogue(t)
	for _, l := range Langs() {
		for _, ctx := range append(Contexts(), "") {
			for _, code := range Codes() {
				err := &auth.Error{Code: code, Message: "ENGLISH-SERVICE-MESSAGE"}
				got := c.Localizer(l).Error(err, ctx)
				bad := got == "" || strings.HasPrefix(got, "error.")
				if bad || strings.Contains(got, "ENGLISH") {
					t.Errorf("Error(%s) in %s, context %q = %q, want a translated message",
						code, l, ctx, got)
				}
			}
		}
	}
}

func TestError(t *testing.T) {
	c := newCatalogue(t)
	en, ru := c.Localizer(English), c.Localizer(Russian)
	wrongCode := func(off time.Duration) error {
		return &auth.Error{Code: auth.CodeInvalidCode, Message: "x", ClockOffset: off}
	}
	tests := []struct {
		name string
		l    Localizer
		err  error
		ctx  Context
		want string
	}{
		{"throttled", en, &auth.Error{Code: auth.CodeThrottled, RetryAfter: 90 * time.Second},
			ContextCode, "Too many attempts. Wait 2 minutes and try again."},
		{"throttled ru", ru, &auth.Error{Code: auth.CodeThrottled, RetryAfter: 30 * time.Second},
			ContextCode, "Слишком много попыток. Подождите 30 секунд и попробуйте снова."},
		{"throttled without wait", en, &auth.Error{Code: auth.CodeThrottled}, ContextSignIn,
			"Too many attempts. Wait a little and try again."},
		{"clock fast", en, wrongCode(5 * time.Minute), ContextEnrol, "about 5 minutes fast"},
		{"clock slow", en, wrongCode(-90 * time.Second), ContextEnrol, "about 2 minutes slow"},
		{"clock fast ru", ru, wrongCode(5 * time.Minute), ContextEnrol,
			"спешат примерно на 5 минут"},
		{"clock slow ru", ru, wrongCode(-time.Minute), ContextEnrol,
			"отстают примерно на 1 минуту"},
		{"no clock hint at sign-in", en, wrongCode(5 * time.Minute), ContextCode,
			"That code is not right. Wait for the next code and try again"},
		{"wrapped", en, fmt.Errorf("page: %w", wrongCode(0)), ContextEnrol,
			"That code is not right."},
		{"recovery", ru, wrongCode(0), ContextRecovery, "Код восстановления неверен"},
		{"current password", en, &auth.Error{Code: auth.CodeInvalidCredentials}, ContextPassword,
			"The current password is wrong."},
		{"sign-in", en, &auth.Error{Code: auth.CodeInvalidCredentials}, ContextSignIn,
			"Wrong e-mail or password."},
		{"not an auth error", en, errors.New("disk full at /var/lib/x"), ContextSignIn,
			"Something went wrong on our side."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.l.Error(tt.err, tt.ctx)
			if !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want it to contain %q", got, tt.want)
			}
			hint := strings.Contains(got, "fast") || strings.Contains(got, "спешат")
			if hint && tt.ctx != ContextEnrol {
				t.Errorf("got %q: a clock hint outside enrolment", got)
			}
		})
	}
}

// TestLocalizerNormalisesLang: a language named in another case or with
// spaces still finds its texts.
func TestLocalizerNormalisesLang(t *testing.T) {
	cat, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []Lang{"RU", " ru "} {
		if got := cat.Localizer(in).Lang(); got != Russian {
			t.Errorf("Localizer(%q).Lang(): got %q, want %q", in, got, Russian)
		}
	}
}
