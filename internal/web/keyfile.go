package web

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/clientarea/clientarea/internal/auth"
	"github.com/clientarea/clientarea/internal/i18n"
	"github.com/clientarea/clientarea/internal/totp"
)

// keyFileWidth is where the key file's paragraphs wrap, counted in
// characters: the file is read in any text editor, which may not wrap.
// Values (the URI above all) are never wrapped, so they copy whole.
const keyFileWidth = 71

// keyFile is the text of the Save key download, in l's language: what a
// customer needs to add the same account to another app later, or to get
// in without the phone. It is only ever made from a pending enrolment.
// Only the words are translated; the values are written as they are.
func keyFile(l i18n.Localizer, e auth.Enrolment) []byte {
	blocks := []string{heading(l.T("keyfile.title"), '='), wrap(l.T("keyfile.private"))}
	if e.NewDevice {
		blocks = append(blocks, wrap(l.T("keyfile.new_device")))
	}
	blocks = append(blocks, keyFields(l, e), wrap(l.T("keyfile.how")))
	blocks = append(blocks, recoveryBlocks(l, e)...)
	// Every block ends its last line, so joining them leaves one empty
	// line between blocks.
	return []byte(strings.Join(blocks, "\n"))
}

// keyFields lines up the values of the enrolment after their labels,
// whatever the length of the labels in l's language.
func keyFields(l i18n.Localizer, e auth.Enrolment) string {
	rows := [][2]string{
		{l.T("keyfile.issuer"), e.Issuer},
		{l.T("keyfile.account"), e.AccountName},
		{l.T("keyfile.secret"), totp.GroupSecret(e.Secret)},
		{"  " + l.T("keyfile.plain"), e.Secret},
		{l.T("keyfile.uri"), e.URI},
	}
	width := 0
	for _, r := range rows {
		width = max(width, utf8.RuneCountInString(r[0]))
	}
	var b strings.Builder
	for _, r := range rows {
		pad := width + 2 - utf8.RuneCountInString(r[0])
		fmt.Fprintf(&b, "%s%s%s\n", r[0], strings.Repeat(" ", pad), r[1])
	}
	return b.String()
}

// recoveryBlocks lists the recovery codes of a first enrolment. A new
// device keeps the account's codes, so its file only says that they stay.
func recoveryBlocks(l i18n.Localizer, e auth.Enrolment) []string {
	if e.NewDevice || len(e.RecoveryCodes) == 0 {
		return []string{wrap(l.T("keyfile.codes_kept"))}
	}
	// The button's own label, so that the file names what the code step
	// shows in the same language.
	help := l.T("keyfile.codes_help", "button", l.T("code.use_recovery"))
	var list strings.Builder
	for i, c := range e.RecoveryCodes {
		fmt.Fprintf(&list, "%2d. %s\n", i+1, c)
	}
	return []string{heading(l.T("keyfile.codes_title"), '-') + wrap(help), list.String()}
}

// heading underlines title with as many marks as it has characters.
func heading(title string, mark rune) string {
	return title + "\n" + strings.Repeat(string(mark), utf8.RuneCountInString(title)) + "\n"
}

// wrap breaks s into lines of at most keyFileWidth characters at spaces,
// each line ended; a word longer than a line stays whole.
func wrap(s string) string {
	var b strings.Builder
	n := 0
	for _, w := range strings.Fields(s) {
		wn := utf8.RuneCountInString(w)
		switch {
		case n == 0:
		case n+1+wn > keyFileWidth:
			b.WriteByte('\n')
			n = 0
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += wn
	}
	b.WriteByte('\n')
	return b.String()
}

// localizerKey is the context key under which the pages hand the API's
// download handlers the language of the page.
type localizerKey struct{}

// withLocalizer gives the handlers of a download the Localizer of the
// page it is offered on.
func withLocalizer(ctx context.Context, l i18n.Localizer) context.Context {
	return context.WithValue(ctx, localizerKey{}, l)
}

// pageLocalizer returns the Localizer withLocalizer stored, if any.
func pageLocalizer(ctx context.Context) (i18n.Localizer, bool) {
	l, ok := ctx.Value(localizerKey{}).(i18n.Localizer)
	return l, ok
}

// keyFileName is "<issuer-slug>-2fa-key.txt". Only ASCII letters and
// digits are kept, so the name needs no quoting in the header and is
// safe on every file system.
func keyFileName(issuer string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(issuer) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			continue
		}
		dash = true
	}
	slug := b.String()
	if slug == "" {
		slug = "clientarea"
	}
	if len(slug) > 64 {
		slug = strings.TrimRight(slug[:64], "-")
	}
	return slug + "-2fa-key.txt"
}
