package web

import (
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// node is an element of a page, or a piece of text (tag ""). Pages are
// read with encoding/xml in its lenient HTML mode: the standard library's
// parser, not our templates, says what the page holds.
type node struct {
	tag    string
	attr   map[string]string
	kids   []*node
	parent *node
	text   string
}

func parseHTML(t *testing.T, body string) *node {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(body))
	d.Strict, d.AutoClose, d.Entity = false, xml.HTMLAutoClose, xml.HTMLEntity
	root := &node{tag: "#document", attr: map[string]string{}}
	cur := root
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return root
		}
		if err != nil {
			t.Fatalf("parse page: %v\n%s", err, body)
		}
		switch x := tok.(type) {
		case xml.StartElement:
			n := &node{tag: strings.ToLower(x.Name.Local), attr: map[string]string{}, parent: cur}
			for _, a := range x.Attr {
				n.attr[strings.ToLower(a.Name.Local)] = a.Value
			}
			cur.kids = append(cur.kids, n)
			cur = n
		case xml.EndElement:
			for n := cur; n != root; n = n.parent {
				if n.tag == strings.ToLower(x.Name.Local) {
					cur = n.parent
					break
				}
			}
		case xml.CharData:
			cur.kids = append(cur.kids, &node{text: string(x), parent: cur})
		}
	}
}

// all returns the elements under n, n included, that match, in document
// order.
func (n *node) all(match func(*node) bool) []*node {
	var out []*node
	var walk func(*node)
	walk = func(m *node) {
		if m.tag != "" && match(m) {
			out = append(out, m)
		}
		for _, k := range m.kids {
			walk(k)
		}
	}
	walk(n)
	return out
}

func (n *node) first(match func(*node) bool) *node {
	if found := n.all(match); len(found) > 0 {
		return found[0]
	}
	return nil
}

// is matches elements by tag ("" for any) and attribute name, value pairs.
func is(tag string, attrs ...string) func(*node) bool {
	return func(n *node) bool {
		if tag != "" && n.tag != tag {
			return false
		}
		for i := 0; i+1 < len(attrs); i += 2 {
			if v, ok := n.attr[attrs[i]]; !ok || v != attrs[i+1] {
				return false
			}
		}
		return true
	}
}

func (n *node) byID(id string) *node { return n.first(is("", "id", id)) }

// content is the text of n with white space collapsed, as read aloud.
func (n *node) content() string {
	var b strings.Builder
	var walk func(*node)
	walk = func(m *node) {
		if m.tag == "" {
			b.WriteString(m.text)
		}
		for _, k := range m.kids {
			walk(k)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

func (n *node) has(attr string) bool {
	_, ok := n.attr[attr]
	return ok
}

// page is an answer from the pages, parsed when it is HTML.
type page struct {
	path   string
	status int
	header http.Header
	body   string
	doc    *node
}

func (p page) location() string { return p.header.Get("Location") }

// text is the whole page's text.
func (p page) text() string {
	if p.doc == nil {
		return p.body
	}
	return p.doc.content()
}

// browser walks the pages as a browser without JavaScript would: it
// sends forms as forms, marks its requests as same-origin like a real
// browser, and follows no redirect by itself.
type browser struct {
	*client
	lang string // Accept-Language
}

func newBrowser(e *env) *browser { return &browser{client: e.client()} }

func (b *browser) get(path string) page {
	b.t.Helper()
	return b.send("GET", path, nil)
}

func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	return b.send("POST", path, form)
}

func (b *browser) send(method, path string, form url.Values) page {
	b.t.Helper()
	h := http.Header{"Sec-Fetch-Site": {"same-origin"}}
	if b.lang != "" {
		h.Set("Accept-Language", b.lang)
	}
	var body io.Reader
	if form != nil {
		h.Set("Content-Type", "application/x-www-form-urlencoded")
		body = strings.NewReader(form.Encode())
	}
	a := b.raw(method, path, h, body)
	p := page{path: path, status: a.status, header: a.header, body: string(a.body)}
	redirected := a.status >= 300 && a.status < 400
	if strings.HasPrefix(a.header.Get("Content-Type"), "text/html") && !redirected {
		p.doc = parseHTML(b.t, p.body)
		checkPage(b.t, p)
	}
	return p
}

// follow requires p to be a redirect (303 See Other) to want, a local
// address, and opens it.
func (b *browser) follow(p page, want string) page {
	b.t.Helper()
	if p.status != http.StatusSeeOther || p.location() != want {
		b.t.Fatalf("%s: got %d to %q, want 303 to %q\n%s", p.path, p.status, p.location(),
			want, p.text())
	}
	return b.get(want)
}

// submit fills in the form of p that posts to action, as a person would:
// hidden fields keep their values, every named value must be a field or
// a button of that form, and the form is sent with POST.
func (b *browser) submit(p page, action string, values map[string]string) page {
	b.t.Helper()
	if p.doc == nil {
		b.t.Fatalf("%s is not a page", p.path)
	}
	form := p.doc.first(is("form", "action", action))
	if form == nil {
		b.t.Fatalf("%s has no form posting to %s\n%s", p.path, action, p.text())
	}
	if m := form.attr["method"]; m != "post" {
		b.t.Fatalf("form %s: got method %q, want post", action, m)
	}
	data := url.Values{}
	fields := map[string]bool{}
	inputs := form.all(func(n *node) bool { return n.tag == "input" || n.tag == "textarea" })
	for _, f := range inputs {
		if name := f.attr["name"]; name != "" {
			fields[name] = true
			data.Set(name, f.attr["value"])
		}
	}
	for _, btn := range form.all(is("button")) {
		fields[btn.attr["name"]] = true
	}
	for k, v := range values {
		if !fields[k] {
			b.t.Fatalf("form %s on %s has no field %q", action, p.path, k)
		}
		data.Set(k, v)
	}
	return b.post(action, data)
}

// click opens the link of p whose text is text.
func (b *browser) click(p page, text string) page {
	b.t.Helper()
	a := p.doc.first(func(n *node) bool { return n.tag == "a" && n.content() == text })
	if a == nil {
		b.t.Fatalf("%s has no link %q\n%s", p.path, text, p.text())
	}
	return b.get(a.attr["href"])
}

// rawKey finds message keys shown instead of their text (Localizer.T
// answers an unknown key with the key itself).
var rawKey = regexp.MustCompile(`\b(admin|code|codes|confirm|duration|enabled|error|event|` +
	`event_detail|field|forbidden|forgot|format|home|layout|link|login|menu|month|notfound|` +
	`notice|recovered|recovery|reset|security|settings|setup|signup|status|support)\.[a-z0-9_]+`)

// checkPage holds every page to the rules of the design: nothing inline
// that the Content-Security-Policy would block, every field labelled and
// its descriptions present, ids unique, and no message key left
// untranslated.
func checkPage(t *testing.T, p page) {
	t.Helper()
	doc := p.doc
	ids := map[string]bool{}
	for _, n := range doc.all(func(*node) bool { return true }) {
		for name := range n.attr {
			if name == "style" || strings.HasPrefix(name, "on") {
				t.Errorf("%s: <%s> has an inline %s attribute", p.path, n.tag, name)
			}
		}
		if id := n.attr["id"]; id != "" {
			if ids[id] {
				t.Errorf("%s: id %q is used twice", p.path, id)
			}
			ids[id] = true
		}
	}
	if len(doc.all(is("style"))) > 0 {
		t.Errorf("%s: has a <style> element", p.path)
	}
	for _, s := range doc.all(is("script")) {
		if s.attr["src"] == "" || strings.TrimSpace(s.content()) != "" {
			t.Errorf("%s: has an inline script", p.path)
		}
	}
	if html := doc.first(is("html")); html == nil || !slices.Contains([]string{"en", "ru"},
		html.attr["lang"]) {
		t.Errorf("%s: <html> has no lang of en or ru", p.path)
	}
	checkFields(t, p, doc)
	if m := rawKey.FindString(doc.content()); m != "" {
		t.Errorf("%s: shows the message key %q instead of its text", p.path, m)
	}
}

func checkFields(t *testing.T, p page, doc *node) {
	t.Helper()
	fields := doc.all(func(n *node) bool {
		if n.tag == "textarea" || n.tag == "select" {
			return true
		}
		typ := n.attr["type"]
		return n.tag == "input" && typ != "hidden" && typ != "submit" && typ != "button"
	})
	for _, f := range fields {
		id := f.attr["id"]
		label := doc.first(is("label", "for", id))
		if id == "" || label == nil || label.content() == "" {
			t.Errorf("%s: field %q has no label", p.path, f.attr["name"])
		}
		for _, ref := range strings.Fields(f.attr["aria-describedby"]) {
			if doc.byID(ref) == nil {
				t.Errorf("%s: field %q is described by missing #%s", p.path, id, ref)
			}
		}
		tied := strings.Contains(f.attr["aria-describedby"], id+"-error")
		if f.attr["aria-invalid"] == "true" && !tied {
			t.Errorf("%s: invalid field %q is not tied to its error", p.path, id)
		}
	}
}

// field returns the input or textarea with this id, failing if missing.
func (p page) field(t *testing.T, id string) *node {
	t.Helper()
	f := p.doc.byID(id)
	if f == nil {
		t.Fatalf("%s has no field #%s\n%s", p.path, id, p.text())
	}
	return f
}

// fieldError is the text of the error tied to field id, or "".
func (p page) fieldError(t *testing.T, id string) string {
	t.Helper()
	f := p.field(t, id)
	if f.attr["aria-invalid"] != "true" {
		return ""
	}
	msg := p.doc.byID(id + "-error")
	if msg == nil {
		t.Fatalf("%s: #%s is invalid but has no #%s-error", p.path, id, id)
	}
	return msg.content()
}

// wantText reports each of wants that got lacks.
func wantText(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s: got %q, want it to contain %q", what, got, w)
		}
	}
}
