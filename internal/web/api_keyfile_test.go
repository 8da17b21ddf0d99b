package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/clientarea/clientarea/internal/oathtool"
)

// TestKeyFileDownload: the Save key file holds what the brief lists while
// the enrolment is pending, and is gone for good after activation.
func TestKeyFileDownload(t *testing.T) {
	oathtool.Require(t)
	f := pendingSetup(newEnv(t))
	setup := f.c.call("POST", "/api/v1/account/2fa/setup", nil).json(t)
	got := f.c.call("GET", "/api/v1/account/2fa/setup/key", nil)
	got.want(t, http.StatusOK, "")
	headers := map[string]string{
		"Content-Type":        "text/plain; charset=utf-8",
		"Content-Disposition": `attachment; filename="acme-client-area-2fa-key.txt"`,
		"Cache-Control":       "no-store",
	}
	for k, want := range headers {
		if v := got.header.Get(k); v != want {
			t.Errorf("got %s %q, want %q", k, v, want)
		}
	}
	body := string(got.body)
	secret := setup["secret"].(string)
	grouped := secret[:4] + " " + secret[4:8] + " " + secret[8:12] // first groups of four
	for _, want := range []string{"Acme Client Area", alice, secret, grouped,
		setup["otpauth_uri"].(string), "Use a recovery code instead"} {
		if !strings.Contains(body, want) {
			t.Errorf("the key file lacks %q:\n%s", want, body)
		}
	}

	enabled := f.c.call("POST", "/api/v1/account/2fa/enable", map[string]string{"code": f.code()})
	enabled.want(t, http.StatusOK, "")
	codes := stringList(t, enabled.json(t)["recovery_codes"])
	for i, c := range codes {
		if !strings.Contains(body, c) {
			t.Errorf("the key file lacks recovery code %d", i+1)
		}
	}
	f.c.call("GET", "/api/v1/account/2fa/setup/key", nil).want(t, http.StatusNotFound, "not_found")
}

// TestKeyFileNewDevice: for a new device the file says so, keeps the
// account's recovery codes out, and says they stay valid.
func TestKeyFileNewDevice(t *testing.T) {
	oathtool.Require(t)
	f := withTwoFactor(newEnv(t))
	f.c.call("POST", "/api/v1/account/2fa/setup", nil).want(t, http.StatusOK, "")
	got := f.c.call("GET", "/api/v1/account/2fa/setup/key", nil)
	got.want(t, http.StatusOK, "")
	body := string(got.body)
	for _, want := range []string{"new device", "existing recovery codes stay valid"} {
		if !strings.Contains(body, want) {
			t.Errorf("the new-device key file lacks %q:\n%s", want, body)
		}
	}
	for _, c := range f.codes {
		if strings.Contains(body, c) {
			t.Fatalf("the new-device key file shows a recovery code")
		}
	}
}

func TestKeyFileName(t *testing.T) {
	tests := []struct{ issuer, want string }{
		{"Client Area", "client-area-2fa-key.txt"},
		{"Acme & Co.", "acme-co-2fa-key.txt"},
		{"  --Acme--  ", "acme-2fa-key.txt"},
		{`Evil"; filename=x.exe`, "evil-filename-x-exe-2fa-key.txt"},
		{"Клиент", "clientarea-2fa-key.txt"},
		{"Café 24", "caf-24-2fa-key.txt"},
		{"", "clientarea-2fa-key.txt"},
		{strings.Repeat("ab ", 40), strings.Repeat("ab-", 21) + "a-2fa-key.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.issuer, func(t *testing.T) {
			if got := keyFileName(tt.issuer); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
