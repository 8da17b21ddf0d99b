package web

import (
	"go/ast"
	"go/parser"
	"go/token"
	"html/template"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"text/template/parse"

	"github.com/clientarea/clientarea/internal/i18n"
)

// keyUse is one message key a template or Go file asks for; plural says
// whether it was asked for with N.
type keyUse struct {
	where, key string
	plural     bool
}

// TestTemplateKeys fails when a template asks for a message key that is
// not in the catalogue, asks for a plural message with T (or the other
// way round), or computes a key, which this test could not check.
func TestTemplateKeys(t *testing.T) {
	cat, err := i18n.New()
	if err != nil {
		t.Fatalf("catalogue: %v", err)
	}
	files, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		t.Fatalf("glob: %v", err)
	}
	pageFiles, _ := fs.Glob(assets, "templates/pages/*.html")
	stub := template.FuncMap{"field": newField, "asset": func(string) string { return "" }}
	var uses []keyUse
	for _, name := range append(files, pageFiles...) {
		set, err := template.New(filepath.Base(name)).Funcs(stub).ParseFS(assets, name)
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		for _, tmpl := range set.Templates() {
			if tmpl.Tree != nil {
				uses = append(uses, templateKeys(t, name, tmpl.Tree.Root)...)
			}
		}
	}
	if len(uses) < 150 {
		t.Fatalf("found %d uses of keys in the templates, want them all", len(uses))
	}
	checkKeys(t, cat, uses)
}

// templateKeys walks a template for calls of .L.T and .L.N (also as
// $.L.T) and returns their keys.
func templateKeys(t *testing.T, file string, n parse.Node) []keyUse {
	t.Helper()
	var uses []keyUse
	var walk func(parse.Node)
	walk = func(n parse.Node) {
		switch x := n.(type) {
		case *parse.ListNode:
			if x != nil {
				for _, k := range x.Nodes {
					walk(k)
				}
			}
		case *parse.ActionNode:
			walk(x.Pipe)
		case *parse.PipeNode:
			if x != nil {
				for _, c := range x.Cmds {
					walk(c)
				}
			}
		case *parse.CommandNode:
			if method := localizerCall(x.Args[0]); method != "" {
				var s *parse.StringNode
				if len(x.Args) > 1 {
					s, _ = x.Args[1].(*parse.StringNode)
				}
				if s == nil {
					t.Errorf("%s: %s calls %s with a key that is not a constant", file, x, method)
					return
				}
				uses = append(uses, keyUse{file, s.Text, method == "N"})
			}
			for _, a := range x.Args {
				walk(a)
			}
		case *parse.IfNode:
			walk(x.Pipe)
			walk(x.List)
			walk(x.ElseList)
		case *parse.RangeNode:
			walk(x.Pipe)
			walk(x.List)
			walk(x.ElseList)
		case *parse.WithNode:
			walk(x.Pipe)
			walk(x.List)
			walk(x.ElseList)
		case *parse.TemplateNode:
			walk(x.Pipe)
		}
	}
	walk(n)
	return uses
}

// localizerCall returns "T" or "N" when n is .L.T, .L.N, $.L.T or $.L.N.
func localizerCall(n parse.Node) string {
	var ident []string
	switch x := n.(type) {
	case *parse.FieldNode:
		ident = x.Ident
	case *parse.VariableNode:
		ident = x.Ident[1:]
	}
	if len(ident) == 2 && ident[0] == "L" && (ident[1] == "T" || ident[1] == "N") {
		return ident[1]
	}
	return ""
}

// TestSourceKeys checks the keys the page handlers and the key file use:
// string constants passed to T and N, keys passed around as strings,
// notices named in redirects, and the keys made from event kinds and
// details.
func TestSourceKeys(t *testing.T) {
	cat, err := i18n.New()
	if err != nil {
		t.Fatalf("catalogue: %v", err)
	}
	prefixes := map[string]bool{}
	for _, k := range cat.Keys() {
		prefixes[k[:strings.IndexByte(k, '.')]] = true
	}
	files, err := filepath.Glob("pages*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("glob pages*.go: %v", err)
	}
	files = append(files, "keyfile.go")
	keyLike := regexp.MustCompile(`^([a-z_0-9]+)\.[a-z_0-9.]*[a-z_0-9]$`)
	notice := regexp.MustCompile(`notice=([a-z_0-9]+)`)
	var uses []keyUse
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		plural := pluralLiterals(f)
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, _ := strconv.Unquote(lit.Value)
			if m := keyLike.FindStringSubmatch(s); m != nil && prefixes[m[1]] {
				uses = append(uses, keyUse{name, s, plural[lit]})
			}
			for _, m := range notice.FindAllStringSubmatch(s, -1) {
				if !isNotice(m[1]) {
					t.Errorf("%s: redirects with notice %q, which no page shows", name, m[1])
				}
				uses = append(uses, keyUse{name, "notice." + m[1], false})
			}
			return true
		})
	}
	for _, k := range eventKinds() {
		uses = append(uses, keyUse{"eventKinds", "event." + string(k), false})
	}
	for _, d := range []string{"password", "totp", "recovery code", "second factor"} {
		if detailText(cat.Localizer(i18n.English), d) == "" {
			t.Errorf("event detail %q has no text", d)
		}
	}
	for _, k := range cat.Keys() {
		if n, ok := strings.CutPrefix(k, "notice."); ok && !isNotice(n) {
			t.Errorf("catalogue has %s, which no redirect may ask for", k)
		}
	}
	checkKeys(t, cat, uses)
}

// pluralLiterals returns the string constants passed first to a method
// named N: the keys of plural messages.
func pluralLiterals(f *ast.File) map[*ast.BasicLit]bool {
	out := map[*ast.BasicLit]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) == 0 {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if lit, isLit := call.Args[0].(*ast.BasicLit); ok && isLit && sel.Sel.Name == "N" {
			out[lit] = true
		}
		return true
	})
	return out
}

func checkKeys(t *testing.T, cat *i18n.Catalogue, uses []keyUse) {
	t.Helper()
	for _, u := range uses {
		switch {
		case !cat.Has(u.key):
			t.Errorf("%s: key %q is not in the catalogue", u.where, u.key)
		case u.plural != cat.IsPlural(u.key):
			t.Errorf("%s: key %q: asked as plural=%v, catalogue plural=%v", u.where, u.key,
				u.plural, cat.IsPlural(u.key))
		}
	}
}
