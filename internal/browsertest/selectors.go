package browsertest

import (
	"fmt"
	"strings"
)

// XPath selectors by what the customer sees: a test that finds a button
// by its text also checks the text.

// Heading selects the page's h1 with this text.
func Heading(text string) string { return "//h1[normalize-space()=" + literal(text) + "]" }

// Button selects the button with this text.
func Button(text string) string { return "//button[normalize-space()=" + literal(text) + "]" }

// Link selects the link with this text.
func Link(text string) string { return "//a[normalize-space()=" + literal(text) + "]" }

// Field selects the input whose label has this text, so that a field
// without a label is never found.
func Field(label string) string {
	return "//input[@id=//label[normalize-space()=" + literal(label) + "]/@for]"
}

// AccountMenu selects the summary that opens the account menu in the
// header.
const AccountMenu = `//details[contains(@class,"account-menu")]/summary`

// MenuItem selects the link or button of the account menu with this text.
func MenuItem(text string) string {
	return `//details[contains(@class,"account-menu")]//*[self::a or self::button]` +
		"[normalize-space()=" + literal(text) + "]"
}

// literal quotes s as an XPath 1.0 string, which has no escapes: a text
// with both kinds of quote is joined with concat().
func literal(s string) string {
	switch {
	case !strings.Contains(s, `"`):
		return `"` + s + `"`
	case !strings.Contains(s, "'"):
		return "'" + s + "'"
	}
	parts := strings.Split(s, `"`)
	for i, p := range parts {
		parts[i] = `"` + p + `"`
	}
	return fmt.Sprintf("concat(%s)", strings.Join(parts, `, '"', `))
}
