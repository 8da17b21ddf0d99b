package totp

import "strings"

// KeyURI returns the otpauth key URI that an authenticator app reads from the enrolment
// QR code:
//
//	otpauth://totp/ISSUER:ACCOUNT?secret=...&issuer=ISSUER&algorithm=SHA1&digits=6&period=30
//
// Issuer and account are percent-encoded byte by byte from their UTF-8 form: every byte
// outside A-Z a-z 0-9 - . _ ~ becomes %XX with upper-case hex, so a space is %20 and
// never '+' (field case C19), and '&', '+', '#', '?', '/' and ':' inside either name
// cannot end a part early. The one literal ':' in the label separates issuer from account;
// the issuer parameter repeats the label's issuer exactly (field case C20), and apps that
// find an issuer parameter prefer it over splitting the label. If issuer is empty the
// label is the account alone and the issuer parameter is left out.
//
// The fixed algorithm, digits and period are stated although they are the defaults,
// because some apps only trust what the URI says (see the package comment).
//
// github.com/pquerna/otp's Generate is not used for the URI. In v1.5.0 it builds the label
// as a url.URL path and escapes query values with url.PathEscape: '&', '+', '=' and ':'
// stay literal, so the issuer "A&B" becomes issuer=A&B, which any query parser reads as
// issuer "A" plus a stray parameter, a '+' is read back as a space by form decoders, and
// a ':' in the issuer moves the label's split point. Its encoder notes that it replaced
// url.QueryEscape (url.Values encoding), which writes a space as '+', a '+' that several
// apps show literally; the replacement fixed spaces but not the other characters.
func KeyURI(issuer, account string, secret []byte) string {
	var b strings.Builder
	b.WriteString("otpauth://totp/")
	if issuer != "" {
		escapeTo(&b, issuer)
		b.WriteByte(':')
	}
	escapeTo(&b, account)

	b.WriteString("?secret=")
	b.WriteString(EncodeSecret(secret))
	if issuer != "" {
		b.WriteString("&issuer=")
		escapeTo(&b, issuer)
	}
	b.WriteString("&algorithm=SHA1&digits=6&period=30")
	return b.String()
}

// escapeTo writes s to b with every byte outside RFC 3986's unreserved set
// percent-encoded. It is stricter than url.PathEscape and url.QueryEscape on purpose:
// one rule for label and query means the same issuer reads back the same from both.
func escapeTo(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xF])
	}
}

// unreserved reports whether c may appear in a URI component unescaped (RFC 3986, 2.3).
func unreserved(c byte) bool {
	switch {
	case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		return true
	}
	return c == '-' || c == '.' || c == '_' || c == '~'
}
