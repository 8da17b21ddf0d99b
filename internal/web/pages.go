package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/clientarea/clientarea/internal/auth"
	"github.com/clientarea/clientarea/internal/i18n"
)

// The browser's own cookies besides the session: the language the customer
// picked, and the dismissal of the 2FA recommendation on the home page.
const (
	langCookie = "lang"
	tipCookie  = "hide_2fa_tip"
	// tipHiddenFor is how long "Not now" hides the recommendation; it
	// comes back afterwards, since an account without 2FA stays at risk.
	tipHiddenFor = 30 * 24 * time.Hour
	langKeptFor  = 365 * 24 * time.Hour
)

//go:embed templates static
var assets embed.FS

// pages serves the customer's and support's HTML pages. They work without
// JavaScript: every action is a form, the account menu a <details>.
type pages struct {
	s       *Server
	cat     *i18n.Catalogue
	tmpl    map[string]*template.Template
	static  fs.FS
	version map[string]string // static file name -> short content hash
}

func newPages(s *Server) (*pages, error) {
	cat, err := i18n.New()
	if err != nil {
		return nil, fmt.Errorf("web: pages: %w", err)
	}
	static, err := fs.Sub(assets, "static")
	if err != nil {
		return nil, fmt.Errorf("web: pages: %w", err)
	}
	p := &pages{s: s, cat: cat, static: static, version: map[string]string{}}
	if err := p.hashStatic(); err != nil {
		return nil, err
	}
	if p.tmpl, err = p.parseTemplates(); err != nil {
		return nil, err
	}
	return p, nil
}

// hashStatic remembers a hash of every asset: pages link to
// /static/app.css?v=HASH, so browsers may keep an asset for a year and
// still fetch a changed one after an upgrade.
func (p *pages) hashStatic() error {
	return fs.WalkDir(p.static, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(p.static, name)
		if err != nil {
			return fmt.Errorf("web: pages: %w", err)
		}
		sum := sha256.Sum256(b)
		p.version[name] = hex.EncodeToString(sum[:6])
		return nil
	})
}

// parseTemplates makes one template set per page: the layout, the
// partials, and the page, which fills in "title" and "content".
func (p *pages) parseTemplates() (map[string]*template.Template, error) {
	names, err := fs.Glob(assets, "templates/pages/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: pages: %w", err)
	}
	funcs := template.FuncMap{"field": newField, "asset": p.asset}
	out := map[string]*template.Template{}
	for _, name := range names {
		t, err := template.New(path.Base(name)).Funcs(funcs).ParseFS(assets,
			"templates/layout.html", "templates/partials.html", name)
		if err != nil {
			return nil, fmt.Errorf("web: pages: %w", err)
		}
		out[strings.TrimSuffix(path.Base(name), ".html")] = t
	}
	return out, nil
}

// asset returns the address of a static file with its content hash.
func (p *pages) asset(name string) (string, error) {
	v, ok := p.version[name]
	if !ok {
		return "", fmt.Errorf("web: no static file %q", name)
	}
	return "/static/" + name + "?v=" + v, nil
}

func (p *pages) serveStatic(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/static/")
	if _, ok := p.version[name]; !ok {
		p.notFound(w, r)
		return
	}
	if r.URL.Query().Get("v") == p.version[name] {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "public, max-age=300")
	}
	http.ServeFileFS(w, r, p.static, name)
}

func (p *pages) favicon(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/static/favicon.svg", http.StatusMovedPermanently)
}

// view is what every template receives. Page holds the page's own data.
type view struct {
	L      i18n.Localizer
	Issuer string
	// Email is the signed-in customer's login, shown in the header; empty
	// on the pages before sign-in.
	Email string
	Admin bool
	// Here is this page's local address, where the language switcher
	// returns to.
	Here string
	// Notice is a translated status message, Error a translated message
	// about the whole form; Fields holds the messages of single fields
	// by field id.
	Notice string
	Error  string
	Fields map[string]string
	Page   any
}

// Err returns the error message of the field with this id, or "".
func (v *view) Err(id string) string { return v.Fields[id] }

// newView starts the view of a request. Known notices, passed as
// ?notice=NAME after a redirect, are shown; anything else in the
// parameter is ignored, so a link cannot put words on our pages.
func (p *pages) newView(r *http.Request, a *auth.Account) *view {
	l := p.localizer(r)
	v := &view{L: l, Issuer: p.s.svc.Issuer(), Here: p.here(r), Fields: map[string]string{}}
	if a != nil {
		v.Email, v.Admin = a.Email, a.Role == auth.RoleAdmin
	}
	if n := r.URL.Query().Get("notice"); r.Method == http.MethodGet && isNotice(n) {
		v.Notice = l.T("notice." + n)
	}
	return v
}

// isNotice reports whether n names a message a redirect may ask a page
// to show.
func isNotice(n string) bool {
	switch n {
	case "signed_up", "signed_out", "signed_out_everywhere", "expired", "password_reset",
		"password_changed", "2fa_disabled", "setup_cancelled", "reset_done":
		return true
	}
	return false
}

// here is the local address the language switcher returns to: for a GET
// the page itself, for a form's answer the page the form is on.
func (p *pages) here(r *http.Request) string {
	if r.Method != http.MethodGet {
		// A form's answer: the switcher comes back with a GET, so the
		// address must be one a GET can open. A POST-only address (new
		// recovery codes, change password) falls back to its section.
		get := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: r.URL.Path},
			Host: r.Host}
		if _, pattern := p.s.mux.Handler(get); pattern != "" {
			return r.URL.Path
		}
		if strings.HasPrefix(r.URL.Path, "/settings/") {
			return "/settings"
		}
		return "/"
	}
	q := r.URL.Query()
	q.Del("notice")
	if len(q) == 0 {
		return r.URL.Path
	}
	return r.URL.Path + "?" + q.Encode()
}

// localizer picks the language: the switcher's cookie, else the browser's
// Accept-Language header.
func (p *pages) localizer(r *http.Request) i18n.Localizer {
	var choice string
	if c, err := r.Cookie(langCookie); err == nil {
		choice = c.Value
	}
	return p.cat.Localizer(p.cat.Negotiate(choice, r.Header.Get("Accept-Language")))
}

// render writes the page name with v. The page is built in memory first so
// that a template failure becomes a clean 500, not half a page.
func (p *pages) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	t, ok := p.tmpl[name]
	var b bytes.Buffer
	err := errors.New("no such template")
	if ok {
		err = t.ExecuteTemplate(&b, "layout", v)
	}
	if err != nil {
		p.s.logCause(r, slog.LevelError, fmt.Errorf("render %s: %w", name, err))
		http.Error(w, v.L.T("error.internal"), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// message is the data of the message page: a title, some paragraphs and
// an optional link onwards.
type message struct {
	Title      string
	Paragraphs []string
	Link       *link
}

type link struct {
	Href, Text string
}

func (p *pages) message(w http.ResponseWriter, r *http.Request, status int, a *auth.Account,
	m message) {
	v := p.newView(r, a)
	v.Page = m
	p.render(w, r, status, "message", v)
}

// notFound answers a missing static file with a page. Other unknown
// addresses keep ServeMux's own answers (404, or 405 with Allow for a
// known path), which a catch-all route would hide from the API.
func (p *pages) notFound(w http.ResponseWriter, r *http.Request) {
	l := p.localizer(r)
	p.message(w, r, http.StatusNotFound, nil, message{Title: l.T("notfound.title"),
		Paragraphs: []string{l.T("notfound.text")}, Link: &link{"/", l.T("notfound.home")}})
}

// failPage answers an error that leaves nothing to show but a message:
// the funnel logs it and picks the status.
func (p *pages) failPage(w http.ResponseWriter, r *http.Request, a *auth.Account, err error) {
	f := p.s.fail(w, r, err)
	l := p.localizer(r)
	p.message(w, r, f.Status, a, message{Title: l.T("error.title"),
		Paragraphs: []string{l.Error(err, "")}, Link: &link{"/", l.T("notfound.home")}})
}

// formError puts the message of err on the field with id field (or on the
// whole form when field is empty) and returns the status to answer with.
func (p *pages) formError(w http.ResponseWriter, r *http.Request, v *view, err error,
	ctx i18n.Context, field string) int {
	f := p.s.fail(w, r, err)
	msg := v.L.Error(err, ctx)
	if field == "" || f.Status == http.StatusInternalServerError ||
		f.Status == http.StatusServiceUnavailable {
		v.Error = msg
	} else {
		v.Fields[field] = msg
	}
	return f.Status
}

// redirect sends the browser on with 303, so that reloading the next page
// never posts a form again.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// safeNext returns next when it is a path on this site, else "/". It is
// strict on purpose: "//host" and "/\host" are read by browsers as
// another host, and browsers drop tabs and line breaks from addresses,
// so "/\t/host" would become "//host" as well.
func safeNext(next string) string {
	if next == "" || len(next) > 2048 || next[0] != '/' {
		return "/"
	}
	if len(next) > 1 && (next[1] == '/' || next[1] == '\\') {
		return "/"
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return next
}

// withNext adds ?next= to a local address when next leads somewhere else
// than home.
func withNext(to, next string) string {
	if next = safeNext(next); next == "/" {
		return to
	}
	return to + "?next=" + url.QueryEscape(next)
}

// setCookie sets one of the page cookies with the same flags as the
// session's.
func (p *pages) setCookie(w http.ResponseWriter, r *http.Request, name, value string,
	maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/",
		MaxAge: int(maxAge / time.Second), HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: p.s.secure || r.TLS != nil})
}

// fullHandler is a page for fully signed-in customers.
type fullHandler func(w http.ResponseWriter, r *http.Request, sess auth.Session, a auth.Account)

// full lets only fully signed-in customers in. Between the password and
// the code nothing of the client area opens: a half-signed-in browser is
// sent back to the code step, anyone else to sign-in, with the page to
// come back to.
func (p *pages) full(h fullHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := p.s.sessionToken(r)
		sess, a, err := p.s.svc.Authenticate(r.Context(), token)
		switch {
		case err == nil && sess.Stage == auth.StageFull:
			h(w, r, sess, a)
			return
		case err != nil && auth.ErrorCode(err) != auth.CodeUnauthenticated:
			p.failPage(w, r, nil, err)
			return
		}
		next := ""
		if r.Method == http.MethodGet {
			next = r.URL.RequestURI()
		}
		if err == nil {
			redirect(w, r, withNext("/login/code", next))
			return
		}
		redirect(w, r, withNext("/login", next))
	})
}

// download adapts an API handler that serves a file (the QR code, the
// Save key file) to a page: the file speaks the page's language rather
// than the account's, and a failure is a page.
func (p *pages) download(h accountHandler) fullHandler {
	return func(w http.ResponseWriter, r *http.Request, sess auth.Session, a auth.Account) {
		r = r.WithContext(withLocalizer(r.Context(), p.localizer(r)))
		if err := h(w, r, sess, a); err != nil {
			p.failPage(w, r, &a, err)
		}
	}
}

// setLang remembers the language picked with the switcher, in a cookie
// and, for a signed-in customer, in the account, which e-mails follow.
func (p *pages) setLang(w http.ResponseWriter, r *http.Request) {
	lang, ok := i18n.ParseLang(r.PostFormValue("lang"))
	if ok {
		p.setCookie(w, r, langCookie, string(lang), langKeptFor)
		p.rememberLang(r, lang)
	}
	redirect(w, r, safeNext(r.PostFormValue("next")))
}

// rememberLang stores lang in the account of the session, if any. A
// failure is only logged: the page is shown in lang anyway.
func (p *pages) rememberLang(r *http.Request, lang i18n.Lang) {
	_, a, err := p.s.svc.RequireFull(r.Context(), p.s.sessionToken(r))
	if err != nil || a.Lang == string(lang) {
		return
	}
	if err := p.s.svc.SetLang(r.Context(), a, string(lang)); err != nil {
		p.s.logCause(r, slog.LevelWarn, err)
	}
}

// fieldView is one labelled form field, made by newField.
type fieldView struct {
	ID, Name, Type, Label, Hint, Value string
	Autocomplete, InputMode            string
	Required, Autofocus, Code          bool
	MinLength, MaxLength               int
	Error, Described                   string
}

// newField is the template function "field": the view, the field's id and
// label, then options as name, value pairs: name, type, auto
// (autocomplete), mode (inputmode), hint, value, min, max, and the flags
// required, focus and code (a one-time code: no spelling help). The
// field's error comes from the view and is tied to the input with
// aria-describedby and aria-invalid; a field with an error takes the
// focus from the others.
func newField(v *view, id, label string, opts ...any) (fieldView, error) {
	f := fieldView{ID: id, Name: id, Type: "text", Label: label, Error: v.Err(id)}
	if len(opts)%2 != 0 {
		return f, fmt.Errorf("field %s: options must come in pairs", id)
	}
	for i := 0; i < len(opts); i += 2 {
		if err := f.set(fmt.Sprint(opts[i]), opts[i+1]); err != nil {
			return f, fmt.Errorf("field %s: %w", id, err)
		}
	}
	if len(v.Fields) > 0 {
		f.Autofocus = f.Error != ""
	}
	var ids []string
	if f.Hint != "" {
		ids = append(ids, id+"-hint")
	}
	if f.Error != "" {
		ids = append(ids, id+"-error")
	}
	f.Described = strings.Join(ids, " ")
	return f, nil
}

func (f *fieldView) set(name string, value any) error {
	text, _ := value.(string)
	flag, _ := value.(bool)
	number, _ := value.(int)
	switch name {
	case "name":
		f.Name = text
	case "type":
		f.Type = text
	case "auto":
		f.Autocomplete = text
	case "mode":
		f.InputMode = text
	case "hint":
		f.Hint = text
	case "value":
		f.Value = text
	case "min":
		f.MinLength = number
	case "max":
		f.MaxLength = number
	case "required":
		f.Required = flag
	case "focus":
		f.Autofocus = flag
	case "code":
		f.Code = flag
	default:
		return fmt.Errorf("unknown option %q", name)
	}
	return nil
}
