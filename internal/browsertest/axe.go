package browsertest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// AxeEnv names the environment variable that may give the path of
// axe-core's axe.min.js. Without it the file is looked for where
// `npm install --prefix REPO axe-core` puts it, as .ci/run does.
const AxeEnv = "CLIENTAREA_AXE_JS"

// AxeScript returns the text of axe.min.js. It fails the test under
// CI=true, and skips it elsewhere, when the file is missing.
func AxeScript(t testing.TB) string {
	t.Helper()
	path := os.Getenv(AxeEnv)
	if path == "" {
		path = filepath.Join(RepoRoot(t), "node_modules", "axe-core", "axe.min.js")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		msg := "axe-core is not installed (npm install --no-save --prefix . axe-core, " +
			"or set " + AxeEnv + "): " + err.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return string(b)
}

// Violation is one axe-core rule that the page breaks, with the elements
// that break it.
type Violation struct {
	ID      string `json:"id"`
	Impact  string `json:"impact"` // minor, moderate, serious or critical
	Help    string `json:"help"`
	HelpURL string `json:"helpUrl"`
	Nodes   []struct {
		Target  []any  `json:"target"`
		HTML    string `json:"html"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

// String describes the violation and the elements that cause it, one to a
// line.
func (v Violation) String() string {
	var b strings.Builder
	b.WriteString(v.Impact + " " + v.ID + ": " + v.Help + " (" + v.HelpURL + ")")
	for _, n := range v.Nodes {
		b.WriteString("\n    " + n.HTML)
		if n.Summary != "" {
			b.WriteString("\n      " + strings.ReplaceAll(n.Summary, "\n", "\n      "))
		}
	}
	return b.String()
}

// Axe runs axe-core's WCAG 2.x A and AA rules, and its best practices, on
// the page as it is now, and returns the rules it breaks. The script is
// loaded into the page through DevTools, which the page's
// Content-Security-Policy does not govern; the page itself is unchanged.
func (tab *Tab) Axe(script string) []Violation {
	tab.t.Helper()
	if !Eval[bool](tab, "typeof axe === 'object'") {
		tab.Do("load axe-core", chromedp.Evaluate[chromedp.Void](script))
	}
	const run = `axe.run(document, {
		runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
			"wcag22aa", "best-practice"]},
		resultTypes: ["violations"]
	}).then(r => ({violations: r.violations, passes: r.passes.length}))`
	res := Eval[struct {
		Violations []Violation `json:"violations"`
		Passes     int         `json:"passes"`
	}](tab, run)
	// A page that passes no rule at all was not checked: axe did not
	// see it, which must not read as a clean result.
	if res.Passes == 0 {
		tab.t.Fatalf("axe-core passed no rule on %s", tab.Path())
	}
	return res.Violations
}

// CheckAccessibility runs Axe and fails the test for each violation of
// serious or critical impact; the others are logged.
func (tab *Tab) CheckAccessibility(script, page string) {
	tab.t.Helper()
	for _, v := range tab.Axe(script) {
		switch v.Impact {
		case "serious", "critical":
			tab.t.Errorf("%s: %s", page, v)
		default:
			tab.t.Logf("%s: %s", page, v)
		}
	}
}
