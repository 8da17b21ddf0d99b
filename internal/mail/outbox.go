package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Outbox writes each message as an RFC 5322 .eml file into Dir instead of
// sending it. Files are named "<unix-nanos>-<random>.eml", so that a sorted
// listing is in the order of sending, and are written to a temporary name and
// renamed, so that a reader never sees half a message. Dir is created with mode
// 0700 and files with mode 0600: reset links in them are as good as passwords.
//
// Outbox is safe for concurrent use.
type Outbox struct {
	// Dir is the folder the files go into.
	Dir string
	// From is the From address, "a@b" or "Name <a@b>".
	From string
	// Now is the clock for the Date header and file name; nil means time.Now.
	Now func() time.Time
	// Rand is the source of file-name and Message-ID randomness; nil means
	// crypto/rand. Concurrent Sends read it concurrently.
	Rand io.Reader
}

// Send writes m into o.Dir.
func (o *Outbox) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mail: outbox send: %w", err)
	}
	now := o.now()
	raw, err := o.render(now, m)
	if err != nil {
		return fmt.Errorf("mail: outbox send: %w", err)
	}

	suffix, err := o.random(8)
	if err != nil {
		return fmt.Errorf("mail: outbox send: %w", err)
	}
	// Zero-padded so that names sort by time as plain strings.
	name := fmt.Sprintf("%020d-%s.eml", now.UnixNano(), suffix)
	if err := writeAtomic(o.Dir, name, raw); err != nil {
		return fmt.Errorf("mail: outbox send: %w", err)
	}
	return nil
}

func (o *Outbox) now() time.Time {
	if o.Now == nil {
		return time.Now()
	}
	return o.Now()
}

func (o *Outbox) random(n int) (string, error) {
	src := o.Rand
	if src == nil {
		src = rand.Reader
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(src, b); err != nil {
		return "", fmt.Errorf("read random: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// render formats m as a complete message with CRLF line endings.
func (o *Outbox) render(now time.Time, m Message) ([]byte, error) {
	from, err := parseAddress(o.From)
	if err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	to, err := parseAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("to: %w", err)
	}
	id, err := o.random(16)
	if err != nil {
		return nil, err
	}

	var b bytes.Buffer
	header := func(name, value string) { b.WriteString(name + ": " + value + "\r\n") }
	header("From", from.String())
	header("To", to.String())
	header("Subject", encodeSubject(m.Subject))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", "<"+id+"@"+domainOf(from.Address)+">")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")

	if err := writeQuotedPrintable(&b, m.Text); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// encodeSubject returns s as RFC 2047 encoded-words when it is not plain
// printable ASCII. Encoding also turns any CR or LF into =0D =0A, so a subject
// can never start a new header. Each encoded-word goes on its own folded line to
// keep long Russian subjects under the 998-octet line limit.
func encodeSubject(s string) string {
	enc := mime.QEncoding.Encode("utf-8", s)
	return strings.ReplaceAll(enc, "?= =?", "?=\r\n =?")
}

// writeQuotedPrintable writes text with CRLF line endings and a final line
// break.
func writeQuotedPrintable(w io.Writer, text string) error {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	qp := quotedprintable.NewWriter(w)
	if _, err := io.WriteString(qp, text); err != nil {
		return fmt.Errorf("encode body: %w", err)
	}
	if err := qp.Close(); err != nil {
		return fmt.Errorf("encode body: %w", err)
	}
	return nil
}

// writeAtomic creates dir if needed and puts data into dir/name through a
// temporary file, so that the final name only ever holds a complete message.
func writeAtomic(dir, name string, data []byte) (err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create folder: %w", err)
	}
	// The temporary name does not end in .eml, so ReadOutbox skips it.
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("create file: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()

	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("set file mode: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write file: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close file: %w", err)
	}
	if err := os.Rename(f.Name(), filepath.Join(dir, name)); err != nil {
		return fmt.Errorf("rename file: %w", err)
	}
	return nil
}

// ReadOutbox parses every .eml file in dir, in name order, which is the order
// the Outbox wrote them. To is the bare address; Text has LF line endings and
// ends with a line break. A missing dir reads as no messages.
func ReadOutbox(dir string) ([]Message, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("mail: read outbox: %w", err)
	}

	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".eml") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)

	msgs := make([]Message, 0, len(names))
	for _, name := range names {
		m, err := readMessageFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("mail: read outbox: %s: %w", name, err)
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

func readMessageFile(path string) (Message, error) {
	f, err := os.Open(path)
	if err != nil {
		return Message{}, err
	}
	defer f.Close()
	return parseMessage(f)
}

// parseMessage reads a single-part text message as the Outbox writes it.
func parseMessage(r io.Reader) (Message, error) {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return Message{}, fmt.Errorf("parse: %w", err)
	}
	to, err := mail.ParseAddress(msg.Header.Get("To"))
	if err != nil {
		return Message{}, fmt.Errorf("parse to: %w", err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return Message{}, fmt.Errorf("decode subject: %w", err)
	}

	body := msg.Body
	cte := strings.ToLower(strings.TrimSpace(msg.Header.Get("Content-Transfer-Encoding")))
	switch cte {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "", "7bit", "8bit":
	default:
		return Message{}, fmt.Errorf("unsupported transfer encoding %q", cte)
	}
	text, err := io.ReadAll(body)
	if err != nil {
		return Message{}, fmt.Errorf("decode body: %w", err)
	}

	plain := strings.ReplaceAll(string(text), "\r\n", "\n")
	return Message{To: to.Address, Subject: subject, Text: plain}, nil
}
