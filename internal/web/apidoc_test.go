package web

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/clientarea/clientarea/internal/auth"
)

// apiDoc is the integrators' reference that must follow routes.go.
const apiDoc = "../../docs/api.md"

// TestAPIDocRoutes fails when docs/api.md and routes.go disagree: every
// "METHOD /api/v1/..." route must be documented, and every such route the
// document names must exist.
func TestAPIDocRoutes(t *testing.T) {
	doc := readText(t, apiDoc)
	routes := apiRoutes(t, "routes.go")
	if len(routes) == 0 {
		t.Fatal("found no /api/v1 route in routes.go; has the way routes are registered changed?")
	}
	for _, r := range routes {
		if !strings.Contains(doc, r) {
			t.Errorf("route %q is not in %s", r, apiDoc)
		}
	}

	named := regexp.MustCompile(`\b(GET|HEAD|POST|PUT|PATCH|DELETE) (/api/v1/[\w./-]*)`)
	for _, m := range named.FindAllStringSubmatch(doc, -1) {
		r := m[1] + " " + strings.TrimRight(m[2], ".-")
		if !slices.Contains(routes, r) {
			t.Errorf("%s names %q, which routes.go does not register", apiDoc, r)
		}
	}
}

// TestAPIDocErrorCodes fails when an error code of internal/auth, or the
// web layer's own, is missing from the table of docs/api.md, or the table
// gives it another status than the error funnel does.
func TestAPIDocErrorCodes(t *testing.T) {
	doc := readText(t, apiDoc)
	codes := append(authCodes(t, "../auth/auth.go"), string(codeTooLarge))
	if len(codes) < 2 {
		t.Fatal("found no Code constant in internal/auth/auth.go")
	}
	for _, code := range codes {
		row := tableRow(doc, "`"+code+"`")
		if row == "" {
			t.Errorf("error code %q has no row in the table of %s", code, apiDoc)
			continue
		}
		want := strconv.Itoa(statusOf(auth.Code(code)))
		if !strings.Contains(row, "| "+want+" ") {
			t.Errorf("row of %q in %s is %q, want status %s", code, apiDoc, row, want)
		}
	}
}

func readText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return string(b)
}

// apiRoutes returns the "METHOD /api/v1/..." patterns registered in the Go
// file at path: the string literals given first to a Handle or HandleFunc
// call. Reading the source keeps the server free of test-only exports.
func apiRoutes(t *testing.T, path string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	var routes []string
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) == 0 {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || sel.Sel.Name != "Handle" && sel.Sel.Name != "HandleFunc" {
			return true
		}
		lit, ok := call.Args[0].(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return true
		}
		pattern, err := strconv.Unquote(lit.Value)
		if err == nil && strings.Contains(pattern, " /api/v1/") {
			routes = append(routes, pattern)
		}
		return true
	})
	return routes
}

// authCodes returns the values of the constants of type Code declared in
// the Go file at path.
func authCodes(t *testing.T, path string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	var codes []string
	for _, d := range f.Decls {
		gen, ok := d.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			if typ, ok := vs.Type.(*ast.Ident); !ok || typ.Name != "Code" {
				continue
			}
			for _, v := range vs.Values {
				lit, ok := v.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("%s: a Code constant is not a string literal", path)
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatalf("%s: unquote %s: %v", path, lit.Value, err)
				}
				codes = append(codes, s)
			}
		}
	}
	return codes
}

// tableRow returns the first Markdown table line of doc whose first cell
// is cell, or "".
func tableRow(doc, cell string) string {
	for line := range strings.Lines(doc) {
		if strings.HasPrefix(line, "| "+cell+" |") {
			return strings.TrimSpace(line)
		}
	}
	return ""
}
