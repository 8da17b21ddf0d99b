// Package i18n holds every text of clientarea's pages in English and
// Russian, and formats the things that differ between the two: plurals,
// dates, durations, and the messages of auth errors.
//
// The texts live in messages.json, embedded in the binary: one entry per
// key with both languages side by side, so a missing translation is seen
// at a glance and refused by New. Placeholders are written {name} and
// filled by name, because Russian often needs the words in another order.
package i18n

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/text/language"
)

// Lang is a language the pages are written in.
type Lang string

// The languages. English comes first: it is the default.
const (
	English Lang = "en"
	Russian Lang = "ru"
)

// Langs lists every supported language, the default first.
func Langs() []Lang { return []Lang{English, Russian} }

// ParseLang returns the supported language s names ("en", "ru").
func ParseLang(s string) (Lang, bool) {
	l := Lang(strings.ToLower(strings.TrimSpace(s)))
	return l, slices.Contains(Langs(), l)
}

// Form is a plural form, as named by the Unicode CLDR.
type Form string

// Plural forms. English uses One and Other; Russian One, Few and Many.
const (
	One   Form = "one"
	Few   Form = "few"
	Many  Form = "many"
	Other Form = "other"
)

// forms lists the plural forms each language needs.
func forms(l Lang) []Form {
	if l == Russian {
		return []Form{One, Few, Many}
	}
	return []Form{One, Other}
}

// PluralForm returns the form a count of n takes in l. Russian follows
// CLDR's integer rules: 1, 21, 101 take "one"; 2-4, 22-24 "few"; the rest,
// the teens included, "many".
func PluralForm(l Lang, n int) Form {
	if n < 0 {
		n = -n
	}
	if l != Russian {
		if n == 1 {
			return One
		}
		return Other
	}
	mod10, mod100 := n%10, n%100
	switch {
	case mod10 == 1 && mod100 != 11:
		return One
	case mod10 >= 2 && mod10 <= 4 && (mod100 < 12 || mod100 > 14):
		return Few
	}
	return Many
}

//go:embed messages.json
var messagesJSON []byte

// text is one message in one language: a plain string, or one string per
// plural form.
type text struct {
	plain  string
	plural map[Form]string
}

func (t *text) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &t.plain); err == nil {
		return nil
	}
	return json.Unmarshal(b, &t.plural)
}

// Catalogue is the set of messages with the language matcher. It is
// read-only after New and safe for concurrent use.
type Catalogue struct {
	msgs    map[string]map[Lang]text
	matcher language.Matcher
}

// New loads the embedded messages and checks that every key is complete
// in every language, with the same placeholders in each.
func New() (*Catalogue, error) {
	return parse(messagesJSON)
}

func parse(data []byte) (*Catalogue, error) {
	var msgs map[string]map[Lang]text
	if err := json.Unmarshal(data, &msgs); err != nil {
		return nil, fmt.Errorf("i18n: load messages: %w", err)
	}
	var problems []error
	for _, key := range slices.Sorted(maps.Keys(msgs)) {
		if err := check(key, msgs[key]); err != nil {
			problems = append(problems, err)
		}
	}
	if err := errors.Join(problems...); err != nil {
		return nil, fmt.Errorf("i18n: load messages: %w", err)
	}
	tags := []language.Tag{language.English, language.Russian}
	return &Catalogue{msgs: msgs, matcher: language.NewMatcher(tags)}, nil
}

var placeholder = regexp.MustCompile(`\{[a-z_]+\}`)

// check reports a key that lacks a language or a plural form, or whose
// translations disagree on their placeholders.
func check(key string, byLang map[Lang]text) error {
	var want []string
	for i, l := range Langs() {
		t, ok := byLang[l]
		if !ok {
			return fmt.Errorf("%q has no %s text", key, l)
		}
		got, err := placeholders(key, l, t)
		if err != nil {
			return err
		}
		if i == 0 {
			want = got
		} else if !slices.Equal(got, want) {
			return fmt.Errorf("%q: %s placeholders %v differ from %v", key, l, got, want)
		}
	}
	if len(byLang) != len(Langs()) {
		return fmt.Errorf("%q has a text in an unknown language", key)
	}
	return nil
}

func placeholders(key string, l Lang, t text) ([]string, error) {
	if t.plural == nil {
		if strings.TrimSpace(t.plain) == "" {
			return nil, fmt.Errorf("%q: %s text is empty", key, l)
		}
		return sortedUnique(placeholder.FindAllString(t.plain, -1)), nil
	}
	var all []string
	for _, f := range forms(l) {
		s := t.plural[f]
		if strings.TrimSpace(s) == "" {
			return nil, fmt.Errorf("%q: %s lacks the plural form %q", key, l, f)
		}
		all = append(all, placeholder.FindAllString(s, -1)...)
	}
	if len(t.plural) != len(forms(l)) {
		return nil, fmt.Errorf("%q: %s has plural forms it does not use", key, l)
	}
	// Russian "one" is also used for 21, 31, ..., so a form may drop {n}
	// only in English; requiring the union keeps the check simple.
	return sortedUnique(append(all, "{n}")), nil
}

func sortedUnique(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

// Keys returns every message key, sorted.
func (c *Catalogue) Keys() []string {
	return slices.Sorted(maps.Keys(c.msgs))
}

// Has reports whether key is in the catalogue.
func (c *Catalogue) Has(key string) bool {
	_, ok := c.msgs[key]
	return ok
}

// IsPlural reports whether key is a message with plural forms, used with
// Localizer.N rather than Localizer.T.
func (c *Catalogue) IsPlural(key string) bool {
	return c.msgs[key][English].plural != nil
}

// Negotiate picks the language of a request: the customer's own choice
// when it names a supported language, else the best match for the
// Accept-Language header, else English.
func (c *Catalogue) Negotiate(choice, acceptLanguage string) Lang {
	if l, ok := ParseLang(choice); ok {
		return l
	}
	if acceptLanguage == "" || len(acceptLanguage) > 1024 {
		return English
	}
	_, i := language.MatchStrings(c.matcher, acceptLanguage)
	return Langs()[i]
}

// Localizer returns the texts and formats of one language.
func (c *Catalogue) Localizer(l Lang) Localizer {
	l, ok := ParseLang(string(l))
	if !ok {
		l = English
	}
	return Localizer{cat: c, lang: l}
}
