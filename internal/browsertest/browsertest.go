// Package browsertest drives Debian's Chromium through chromedp for the
// browser tests: one headless browser per test, tabs with cookies of their
// own, a full-page screenshot of every page a test passes through, and an
// accessibility check with axe-core.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// Chromium is where Debian's chromium package installs the browser.
const Chromium = "/usr/bin/chromium"

// StepTimeout bounds one step of a test: a click and the page it leads
// to, or a screenshot. It is generous for the race detector on a busy
// machine; a step that needs it has hung.
const StepTimeout = 30 * time.Second

// userAgent is a desktop Chromium's, fixed so that the security log in
// the committed screenshots neither reads "HeadlessChrome" nor changes
// with every Chromium release.
const userAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 " +
	"(KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36"

// Width and Height are the desktop window the pages are shown in.
const (
	Width  = 1280
	Height = 800
)

// Require returns the path of Chromium. It fails the test under CI=true,
// and skips it elsewhere, when Chromium is not installed.
func Require(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath(Chromium); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed (apt-get install chromium)")
		}
		t.Skip("chromium is not installed")
	}
	return Chromium
}

// Browser is one headless Chromium process, stopped at the test's cleanup.
type Browser struct {
	ctx context.Context
}

// Start starts Chromium with a fresh profile. Its flags keep it off the
// network: no background requests, no component or sync updates, and a
// resolver that knows only 127.0.0.1, where the test server listens.
func Start(t testing.TB) *Browser {
	t.Helper()
	path := Require(t)
	profile := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.WindowSize(Width, Height),
		chromedp.UserAgent(userAgent),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	// Cleanups run last in, first out: the browser stops before the
	// profile folder is removed.
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first run starts the process; it has no timeout, since a
	// timeout on it would later stop the whole browser.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &Browser{ctx: ctx}
}

// Tab is one page of the browser with its own cookies, as a fresh private
// window has. Its screenshots go to the test's artifact folder: a
// temporary folder, kept when go test runs with -artifacts.
type Tab struct {
	t     *testing.T
	ctx   context.Context
	dir   string
	shots int
}

// NewTab opens a tab in a new browser context, closed at t's cleanup.
func (b *Browser) NewTab(t *testing.T) *Tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return &Tab{t: t, ctx: ctx, dir: t.ArtifactDir()}
}

// Do runs the steps, each within StepTimeout, and fails the test with what
// when one fails.
func (tab *Tab) Do(what string, steps ...chromedp.Action[chromedp.Void]) {
	tab.t.Helper()
	for _, s := range steps {
		if _, err := Run(tab, s); err != nil {
			tab.t.Fatalf("%s: %v", what, err)
		}
	}
}

// Run runs one action within StepTimeout and returns its value.
func Run[T any](tab *Tab, a chromedp.Action[T]) (T, error) {
	ctx, cancel := context.WithTimeout(tab.ctx, StepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("no answer within %v: %w", StepTimeout, err)
	}
	return v, err
}

// Eval evaluates a JavaScript expression in the page and fails the test
// when it throws or its value does not decode into T.
func Eval[T any](tab *Tab, expr string) T {
	tab.t.Helper()
	v, err := Run(tab, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		tab.t.Fatalf("evaluate %.60q: %v", expr, err)
	}
	return v
}

// Text returns the visible text of the first element the selector (CSS
// or XPath) finds, once it is visible.
func (tab *Tab) Text(sel string) string {
	tab.t.Helper()
	v, err := Run(tab, chromedp.Text(sel, chromedp.NodeVisible))
	if err != nil {
		tab.t.Fatalf("read text of %s: %v", sel, err)
	}
	return v
}

// Path returns the path of the page's address, without the query.
func (tab *Tab) Path() string {
	tab.t.Helper()
	return Eval[string](tab, "location.pathname")
}

// ColorScheme makes the page follow a system setting of "light" or
// "dark" (prefers-color-scheme); "" goes back to the browser's own.
func (tab *Tab) ColorScheme(scheme string) {
	tab.t.Helper()
	params := emulation.SetEmulatedMediaParams{}
	if scheme != "" {
		params.Features = []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}
	}
	tab.Do("emulate color scheme "+scheme, command(emulation.SetEmulatedMedia, params))
}

// ScriptsOff turns JavaScript off (or on again) for the pages the tab
// loads from now on.
func (tab *Tab) ScriptsOff(off bool) {
	tab.t.Helper()
	tab.Do(fmt.Sprintf("turn scripts off=%v", off), command(emulation.SetScriptExecutionDisabled,
		emulation.SetScriptExecutionDisabledParams{Value: off}))
}

// command makes a step of a DevTools protocol command whose result does
// not matter.
func command[P, R any](cmd cdp.Command[P, R], params P) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, cmd, params)
		return err
	})
}

// Shot saves a full-page PNG of the page as NN-name.png in the test's
// artifact folder, NN counting the shots of the tab, and returns it.
func (tab *Tab) Shot(name string) []byte {
	tab.t.Helper()
	png, err := Run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		tab.t.Fatalf("screenshot %s: %v", name, err)
	}
	tab.shots++
	file := filepath.Join(tab.dir, fmt.Sprintf("%02d-%s.png", tab.shots, name))
	if err := os.WriteFile(file, png, 0o644); err != nil {
		tab.t.Fatalf("save screenshot: %v", err)
	}
	return png
}

// RepoRoot returns the folder of the go.mod above the working directory,
// which go test sets to the package's folder.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("find the repository: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("find the repository: no go.mod above the working directory")
		}
		dir = parent
	}
}
