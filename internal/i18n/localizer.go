package i18n

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/clientarea/clientarea/internal/auth"
)

// Localizer gives the texts of one language. Its zero value is not usable;
// get one from Catalogue.Localizer. Templates call its methods directly:
// {{.L.T "key"}}, {{.L.N "key" .Count}}.
type Localizer struct {
	cat  *Catalogue
	lang Lang
}

// Lang is the language of l.
func (l Localizer) Lang() Lang { return l.lang }

// T returns the message key with its placeholders filled from args, given
// as name, value pairs: T("home.hello", "email", e) fills {email}. An
// unknown key comes back as itself, so that a mistake shows on the page
// instead of an empty space; the tests make sure none does.
func (l Localizer) T(key string, args ...any) string {
	t, ok := l.cat.msgs[key][l.lang]
	if !ok {
		return key
	}
	s := t.plain
	if t.plural != nil {
		s = t.plural[PluralForm(l.lang, 0)]
	}
	return fill(s, args)
}

// N returns the plural message key in the form n takes, with {n} set to n
// and other placeholders filled from args as in T.
func (l Localizer) N(key string, n int, args ...any) string {
	t, ok := l.cat.msgs[key][l.lang]
	if !ok {
		return key
	}
	s := t.plain
	if t.plural != nil {
		s = t.plural[PluralForm(l.lang, n)]
	}
	return fill(s, append([]any{"n", n}, args...))
}

func fill(s string, args []any) string {
	if len(args) < 2 || !strings.Contains(s, "{") {
		return s
	}
	pairs := make([]string, 0, len(args))
	for i := 0; i+1 < len(args); i += 2 {
		pairs = append(pairs, "{"+fmt.Sprint(args[i])+"}", fmt.Sprint(args[i+1]))
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// Date formats the day of t in UTC: "2 March 2026", "2 марта 2026 г.".
func (l Localizer) Date(t time.Time) string {
	t = t.UTC()
	return l.T("format.date", "day", t.Day(), "year", t.Year(),
		"month", l.T("month."+strconv.Itoa(int(t.Month()))))
}

// DateTime formats t in UTC to the minute: "2 March 2026, 14:05 UTC".
func (l Localizer) DateTime(t time.Time) string {
	t = t.UTC()
	return l.T("format.datetime", "date", l.Date(t), "time", t.Format("15:04"))
}

// Duration says how long d is in whole seconds, minutes or hours, rounded
// up: a customer told to wait should not come back too early. The words
// take the case used after "wait" and "by" ("1 минуту").
func (l Localizer) Duration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d <= time.Minute-time.Second:
		return l.N("duration.seconds", ceilDiv(d, time.Second))
	case d <= time.Hour-time.Minute:
		return l.N("duration.minutes", ceilDiv(d, time.Minute))
	}
	return l.N("duration.hours", ceilDiv(d, time.Hour))
}

func ceilDiv(d, unit time.Duration) int {
	return max(int((d+unit-1)/unit), 1)
}

// Context says where an error happened, because the same error code reads
// differently in different places: a wrong code at enrolment gets advice
// about the phone's clock, a wrong "current password" is not a wrong
// sign-in.
type Context string

// Contexts with messages of their own. A context without a specific
// message for a code falls back to the general one.
const (
	ContextSignUp     Context = "signup"
	ContextSignIn     Context = "signin"
	ContextCode       Context = "code"
	ContextRecovery   Context = "recovery"
	ContextSupport    Context = "support"
	ContextForgot     Context = "forgot"
	ContextReset      Context = "reset"
	ContextEnrol      Context = "enrol"
	ContextRegenerate Context = "regenerate"
	ContextDisable    Context = "disable"
	ContextPassword   Context = "password"
	ContextAdmin      Context = "admin"
)

// Contexts lists every Context, for tests.
func Contexts() []Context {
	return []Context{ContextSignUp, ContextSignIn, ContextCode, ContextRecovery,
		ContextSupport, ContextForgot, ContextReset, ContextEnrol, ContextRegenerate,
		ContextDisable, ContextPassword, ContextAdmin}
}

// Codes lists every auth error code, for tests: each needs a message.
func Codes() []auth.Code {
	return []auth.Code{auth.CodeInvalidInput, auth.CodeInvalidCodeFormat,
		auth.CodeInvalidCredentials, auth.CodeInvalidCode, auth.CodeThrottled,
		auth.CodeLocked, auth.CodeBusy, auth.CodeUnauthenticated, auth.CodeForbidden,
		auth.CodeReauthenticate, auth.CodeNotFound, auth.CodeConflict, auth.CodeInternal}
}

// Error returns the message for err in l's language. It is chosen by the
// error's Code, never taken from auth.Error.Message, which is English; the
// wait of a throttled attempt comes from RetryAfter, and, only when
// enrolling, the phone's clock offset from ClockOffset. Errors that are
// not *auth.Error read as a generic failure: their text is for the log.
func (l Localizer) Error(err error, ctx Context) string {
	var e *auth.Error
	if !errors.As(err, &e) {
		return l.T("error.internal")
	}
	switch {
	case e.Code == auth.CodeThrottled && e.RetryAfter > 0:
		return l.T("error.throttled_wait", "wait", l.Duration(e.RetryAfter))
	case e.Code == auth.CodeInvalidCode && e.ClockOffset > 0 && ctx == ContextEnrol:
		return l.T("error.clock_ahead", "offset", l.Duration(e.ClockOffset))
	case e.Code == auth.CodeInvalidCode && e.ClockOffset < 0 && ctx == ContextEnrol:
		return l.T("error.clock_behind", "offset", l.Duration(e.ClockOffset))
	}
	if key := "error." + string(ctx) + "." + string(e.Code); l.cat.Has(key) {
		return l.T(key)
	}
	if key := "error." + string(e.Code); l.cat.Has(key) {
		return l.T(key)
	}
	return l.T("error.internal")
}
