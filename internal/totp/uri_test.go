package totp

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pquerna/otp"
)

// uriChars is everything KeyURI may write: the fixed scheme and host, unreserved
// characters, percent escapes and the separators ':', '?', '=' and '&'.
var uriChars = regexp.MustCompile(`^otpauth://totp/[A-Za-z0-9._~%:-]*\?[A-Za-z0-9._~%=&-]*$`)

// keyURI is a key URI read back with net/url.
type keyURI struct {
	labelIssuer string
	account     string
	query       url.Values
}

// parseKeyURI reads uri with net/url as an app would, splitting the label at its literal
// ':' before decoding, and checks the parts that do not depend on the inputs.
func parseKeyURI(t testing.TB, uri string) keyURI {
	t.Helper()
	if strings.ContainsAny(uri, "+ ") {
		t.Errorf("URI %q contains '+' or a space", uri)
	}
	if !uriChars.MatchString(uri) {
		t.Errorf("URI %q has characters outside %s", uri, uriChars)
	}
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatalf("url.Parse(%q): %v", uri, err)
	}
	if u.Scheme != "otpauth" || u.Host != "totp" {
		t.Errorf("got scheme %q host %q, want otpauth and totp", u.Scheme, u.Host)
	}
	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		t.Fatalf("url.ParseQuery(%q): %v", u.RawQuery, err)
	}

	var k keyURI
	k.query = query
	parts := strings.Split(strings.TrimPrefix(u.EscapedPath(), "/"), ":")
	if len(parts) > 2 {
		t.Fatalf("label of %q has %d literal colons, want at most 1", uri, len(parts)-1)
	}
	if len(parts) == 2 {
		k.labelIssuer = unescape(t, parts[0])
	}
	k.account = unescape(t, parts[len(parts)-1])

	fixed := map[string]string{"algorithm": "SHA1", "digits": "6", "period": "30"}
	for param, want := range fixed {
		if got := query[param]; len(got) != 1 || got[0] != want {
			t.Errorf("%s: got %q, want [%s]", param, got, want)
		}
	}
	return k
}

// unescape percent-decodes one label part.
func unescape(t testing.TB, s string) string {
	t.Helper()
	d, err := url.PathUnescape(s)
	if err != nil {
		t.Fatalf("url.PathUnescape(%q): %v", s, err)
	}
	return d
}

// checkKeyURI checks that KeyURI's result reads back to exactly its inputs (C20: the
// label's issuer and the issuer parameter agree).
func checkKeyURI(t testing.TB, issuer, account string, secret []byte) {
	t.Helper()
	k := parseKeyURI(t, KeyURI(issuer, account, secret))
	if k.labelIssuer != issuer || k.account != account {
		t.Errorf("label: got issuer %q account %q, want %q and %q",
			k.labelIssuer, k.account, issuer, account)
	}
	wantIssuer := []string{issuer}
	if issuer == "" {
		wantIssuer = nil
	}
	if got := k.query["issuer"]; !slices.Equal(got, wantIssuer) {
		t.Errorf("issuer parameter: got %q, want %q", got, wantIssuer)
	}
	if got, want := k.query["secret"], EncodeSecret(secret); len(got) != 1 || got[0] != want {
		t.Errorf("secret parameter does not hold the encoded secret")
	}
}

// TestKeyURIGolden covers field case C19 with the exact URI for SEED20.
func TestKeyURIGolden(t *testing.T) {
	const want = "otpauth://totp/Acme%20Client%20Area:alice%40example.com" +
		"?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20Client%20Area" +
		"&algorithm=SHA1&digits=6&period=30"
	got := KeyURI("Acme Client Area", "alice@example.com", []byte("12345678901234567890"))
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}

	// Another implementation's parser reads it the same way.
	key, err := otp.NewKeyFromURL(got)
	if err != nil {
		t.Fatalf("otp.NewKeyFromURL: %v", err)
	}
	if key.Issuer() != "Acme Client Area" || key.AccountName() != "alice@example.com" {
		t.Errorf("pquerna reads issuer %q account %q", key.Issuer(), key.AccountName())
	}
	if key.Secret() != "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" || key.Period() != 30 ||
		key.Digits() != otp.DigitsSix || key.Algorithm() != otp.AlgorithmSHA1 {
		t.Errorf("pquerna reads period %d digits %v algorithm %v or a different secret",
			key.Period(), key.Digits(), key.Algorithm())
	}
}

// TestKeyURIRoundTrip covers field cases C19 and C20 with names holding every character
// that has a meaning in a URI, and non-ASCII text.
func TestKeyURIRoundTrip(t *testing.T) {
	secret := []byte("12345678901234567890")
	tests := []struct{ issuer, account string }{
		{"Acme Client Area", "alice@example.com"},
		{"A&B: Co+ Ünïcode 日本", "alice@example.com"},
		{"A&B: Co+ Ünïcode 日本", "bob+tag@example.com"},
		{"100% #1?/x", "a=b&c=d"},
		{"semi;colon,comma", "x:y"},
		{"%20", "%2B"},
		{"", "alice@example.com"},
		{"", "x:y"},
		{"Acme", ""},
		{"~-._", "日本語の名前"},
		{"tab\tnew\nline", "nul\x00byte"},
	}
	for _, tt := range tests {
		t.Run(tt.issuer+"/"+tt.account, func(t *testing.T) {
			checkKeyURI(t, tt.issuer, tt.account, secret)
		})
	}
}

// TestKeyURISecret covers field case C04: the secret parameter is Base32 without padding
// for every secret size, never '=' or %3D.
func TestKeyURISecret(t *testing.T) {
	for n := 1; n <= 40; n++ {
		secret := []byte(strings.Repeat("x", n))
		uri := KeyURI("Acme", "alice@example.com", secret)
		if strings.Contains(uri, "%3D") || strings.Count(uri, "=") != 5 {
			t.Errorf("%d bytes: got %q, want no padding", n, uri)
		}
		checkKeyURI(t, "Acme", "alice@example.com", secret)
	}
}
