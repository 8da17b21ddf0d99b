package mail

import (
	"bytes"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
)

// stdMessage is a message as the standard library alone reads it, so that the
// tests check our writers against net/mail and mime rather than against our
// own reader.
type stdMessage struct {
	header  mail.Header
	subject string
	body    string
}

// parseStd parses raw with net/mail, decodes the subject with mime.WordDecoder
// and the body with mime/quotedprintable, and turns CRLF into LF.
func parseStd(t *testing.T, raw []byte) stdMessage {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("net/mail.ReadMessage: %v\n%s", err, raw)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("decode subject %q: %v", msg.Header.Get("Subject"), err)
	}
	if got := msg.Header.Get("Content-Transfer-Encoding"); got != "quoted-printable" {
		t.Fatalf("Content-Transfer-Encoding: got %q, want quoted-printable", got)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatalf("decode quoted-printable body: %v", err)
	}
	text := strings.ReplaceAll(string(body), "\r\n", "\n")
	return stdMessage{header: msg.Header, subject: subject, body: text}
}

// checkWireFormat checks what RFC 5322 and RFC 2045 ask of every line: CRLF
// endings, at most 998 octets, and only 7-bit characters, since both the
// subject and the body are encoded.
func checkWireFormat(t *testing.T, raw []byte) {
	t.Helper()
	if !bytes.HasSuffix(raw, []byte("\r\n")) {
		t.Errorf("message does not end with CRLF")
	}
	for i, line := range bytes.Split(bytes.TrimSuffix(raw, []byte("\r\n")), []byte("\r\n")) {
		if bytes.ContainsAny(line, "\r\n") {
			t.Errorf("line %d: bare CR or LF in %q", i+1, line)
		}
		if len(line) > 998 {
			t.Errorf("line %d: got %d octets, want at most 998", i+1, len(line))
		}
		for _, c := range line {
			if c > 0x7e || (c < ' ' && c != '\t') {
				t.Errorf("line %d: got byte %#x, want printable 7-bit", i+1, c)
				break
			}
		}
	}
}
