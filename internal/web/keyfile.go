package web

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/clientarea/clientarea/internal/auth"
	"github.com/clientarea/clientarea/internal/totp"
)

// keyFile is the text of the Save key download: what a customer needs to
// add the same account to another app later, or to get in without the
// phone. It is only ever made from a pending enrolment.
func keyFile(e auth.Enrolment) []byte {
	var b bytes.Buffer
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

	line("Two-factor authentication key")
	line("=============================")
	line("")
	line("Keep this file private, like a password: anyone who has it can make")
	line("your sign-in codes. Do not share it or a screenshot of the QR code.")
	if e.NewDevice {
		line("")
		line("This key is for your new device. Once you confirm it with a code, it")
		line("replaces the authenticator app you use now.")
	}
	line("")
	line("Issuer:      %s", e.Issuer)
	line("Account:     %s", e.AccountName)
	line("Secret key:  %s", totp.GroupSecret(e.Secret))
	line("  (plain)    %s", e.Secret)
	line("Key URI:     %s", e.URI)
	line("")
	line("To add the account to an authenticator app, choose to add an account,")
	line("then \"enter a setup key\", and type the secret key (spaces do not")
	line("matter). Choose a time-based key; the code has 6 digits and changes")
	line("every 30 seconds. The phone must set its date and time automatically.")
	line("")
	writeRecoveryCodes(&b, e)
	return b.Bytes()
}

func writeRecoveryCodes(b *bytes.Buffer, e auth.Enrolment) {
	if e.NewDevice || len(e.RecoveryCodes) == 0 {
		b.WriteString("Recovery codes: your existing recovery codes stay valid; this new\n" +
			"device does not change them.\n")
		return
	}
	b.WriteString("Recovery codes\n" +
		"--------------\n" +
		"They work once two-factor authentication is turned on. If you lose your\n" +
		"phone, choose \"Use a recovery code instead\" at the code step of sign-in\n" +
		"and type one code. Each code works only once.\n\n")
	for i, c := range e.RecoveryCodes {
		fmt.Fprintf(b, "%2d. %s\n", i+1, c)
	}
}

// keyFileName is "<issuer-slug>-2fa-key.txt". Only ASCII letters and
// digits are kept, so the name needs no quoting in the header and is
// safe on every file system.
func keyFileName(issuer string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(issuer) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			continue
		}
		dash = true
	}
	slug := b.String()
	if slug == "" {
		slug = "clientarea"
	}
	if len(slug) > 64 {
		slug = strings.TrimRight(slug[:64], "-")
	}
	return slug + "-2fa-key.txt"
}
