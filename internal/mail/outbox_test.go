package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fixedNow is 2026-03-05 14:07:09 UTC, Unix time 1772719629 (date -u -d ... +%s).
var fixedNow = time.Date(2026, 3, 5, 14, 7, 9, 0, time.UTC)

func fixedClock() time.Time { return fixedNow }

func TestOutboxWritesStandardMessage(t *testing.T) {
	longRussian := strings.Repeat("Двухфакторная аутентификация включена. ", 20)
	tests := []struct {
		name     string
		msg      Message
		wantText string
	}{
		{
			name: "russian",
			msg: Message{To: "ivan@x.test", Subject: "Пароль изменён",
				Text: "Здравствуйте!\n\nПароль вашей учётной записи изменён.\n"},
			wantText: "Здравствуйте!\n\nПароль вашей учётной записи изменён.\n",
		},
		{
			name:     "ascii",
			msg:      Message{To: "Ann <ann@x.test>", Subject: "Hello", Text: "a=b\n"},
			wantText: "a=b\n",
		},
		{
			name:     "long subject and line",
			msg:      Message{To: "ivan@x.test", Subject: longRussian, Text: longRussian + "\n"},
			wantText: longRussian + "\n",
		},
		{
			name:     "trailing spaces, crlf and no final newline",
			msg:      Message{To: "ivan@x.test", Subject: "s", Text: "one  \r\ntwo\t\nthree"},
			wantText: "one  \ntwo\t\nthree\n",
		},
		{
			name: "header injection in subject",
			msg: Message{To: "ivan@x.test", Subject: "Hi\r\nBcc: eve@x.test",
				Text: "\n.\nFrom me\n"},
			wantText: "\n.\nFrom me\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "outbox")
			o := &Outbox{Dir: dir, From: "Acme <noreply@acme.test>", Now: fixedClock,
				Rand: bytes.NewReader(bytes.Repeat([]byte{0xab}, 64))}
			if err := o.Send(context.Background(), tt.msg); err != nil {
				t.Fatalf("Send: %v", err)
			}

			raw := readOnlyFile(t, dir, "01772719629000000000-abababababababab.eml")
			checkWireFormat(t, raw)
			got := parseStd(t, raw)
			checkHeaders(t, got, tt.msg)
			if got.body != tt.wantText {
				t.Errorf("body: got %q, want %q", got.body, tt.wantText)
			}

			msgs, err := ReadOutbox(dir)
			if err != nil {
				t.Fatalf("ReadOutbox: %v", err)
			}
			want := Message{To: bareAddress(tt.msg.To), Subject: tt.msg.Subject, Text: tt.wantText}
			if len(msgs) != 1 || msgs[0] != want {
				t.Errorf("ReadOutbox: got %q, want [%q]", msgs, want)
			}
		})
	}
}

func bareAddress(s string) string {
	if i := strings.IndexByte(s, '<'); i >= 0 {
		return strings.TrimSuffix(s[i+1:], ">")
	}
	return s
}

func checkHeaders(t *testing.T, got stdMessage, m Message) {
	t.Helper()
	if got.subject != m.Subject {
		t.Errorf("subject: got %q, want %q", got.subject, m.Subject)
	}
	if bcc := got.header.Get("Bcc"); bcc != "" {
		t.Errorf("Bcc: got %q, want none", bcc)
	}
	from, err := got.header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Address != "noreply@acme.test" {
		t.Errorf("From: got %v (%v), want noreply@acme.test", from, err)
	}
	to, err := got.header.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Address != bareAddress(m.To) {
		t.Errorf("To: got %v (%v), want %s", to, err, bareAddress(m.To))
	}
	date, err := got.header.Date()
	if err != nil || !date.Equal(fixedNow) {
		t.Errorf("Date: got %v (%v), want %v", date, err, fixedNow)
	}
	id := got.header.Get("Message-ID")
	if !regexp.MustCompile(`^<[0-9a-f]{32}@acme\.test>$`).MatchString(id) {
		t.Errorf("Message-ID: got %q, want <32 hex digits@acme.test>", id)
	}
	if v := got.header.Get("MIME-Version"); v != "1.0" {
		t.Errorf("MIME-Version: got %q, want 1.0", v)
	}
	typ, params, err := mime.ParseMediaType(got.header.Get("Content-Type"))
	if err != nil || typ != "text/plain" || !strings.EqualFold(params["charset"], "utf-8") {
		t.Errorf("Content-Type: got %q %v (%v), want text/plain utf-8", typ, params, err)
	}
}

// readOnlyFile checks that dir holds just the file name, with mode 0600 in a
// folder of mode 0700, and returns its content.
func readOnlyFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read dir: %v", err)
	}
	if len(entries) != 1 || entries[0].Name() != name {
		t.Fatalf("files: got %v, want [%s]", entries, name)
	}
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, name): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatalf("stat: %v", err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("mode of %s: got %v, want %v", filepath.Base(path), got, want)
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("read file: %v", err)
	}
	return raw
}

func TestOutboxConcurrentSends(t *testing.T) {
	dir := t.TempDir()
	// One instant for all: only the random part keeps the names apart.
	o := &Outbox{Dir: dir, From: "noreply@acme.test", Now: fixedClock}
	const n = 20

	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			m := Message{To: fmt.Sprintf("user%d@x.test", i), Subject: "s", Text: "t\n"}
			errs <- o.Send(context.Background(), m)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Send: %v", err)
		}
	}

	msgs, err := ReadOutbox(dir)
	if err != nil {
		t.Fatalf("ReadOutbox: %v", err)
	}
	var got, want []string
	for i := range n {
		want = append(want, fmt.Sprintf("user%d@x.test", i))
	}
	for _, m := range msgs {
		got = append(got, m.To)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("recipients: got %v, want %v", got, want)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != n {
		t.Errorf("files: got %d, want %d (no temporary files left)", len(files), n)
	}
}

func TestOutboxRefuses(t *testing.T) {
	bg := context.Background()
	canceled, cancel := context.WithCancel(bg)
	cancel()
	const from = "noreply@acme.test"
	tests := []struct {
		name    string
		ctx     context.Context
		from    string
		to      string
		wantErr error
	}{
		{"bad to", bg, from, "not an address", nil},
		{"to with line break", bg, from, "a@x.test\r\nBcc: b@x.test", nil},
		{"bad from", bg, "nobody", "a@x.test", nil},
		{"canceled", canceled, from, "a@x.test", context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			o := &Outbox{Dir: dir, From: tt.from, Now: fixedClock}
			err := o.Send(tt.ctx, Message{To: tt.to, Subject: "s", Text: "t"})
			if err == nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Send: got %v, want an error (%v)", err, tt.wantErr)
			}
			if files, _ := os.ReadDir(dir); len(files) != 0 {
				t.Errorf("files: got %v, want none", files)
			}
		})
	}
}

// TestReadOutboxForeignFile reads a message written by hand the way other
// mail programs write: a base64 encoded-word subject and upper-case
// quoted-printable escapes ("Привет" is D0 9F D1 80 D0 B8 D0 B2 D0 B5 D1 82).
func TestReadOutboxForeignFile(t *testing.T) {
	dir := t.TempDir()
	raw := "From: a@x.test\r\nTo: \"Ivan\" <ivan@x.test>\r\n" +
		"Subject: =?UTF-8?B?0J/RgNC40LLQtdGC?= world\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"Content-Transfer-Encoding: quoted-printable\r\n\r\n" +
		"=D0=9F=D1=80=D0=B8=D0=B2=D0=B5=D1=82, soft=\r\n break\r\n"
	files := map[string]string{
		"2.eml":       raw,
		"1.eml":       "To: first@x.test\r\nSubject: first\r\n\r\nplain\r\n",
		".tmp-123":    "garbage",
		"notes.txt":   "garbage",
		"sub.eml/x":   "",
		"3.eml.part":  "garbage",
		"0-empty.txt": "",
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	got, err := ReadOutbox(dir)
	if err != nil {
		t.Fatalf("ReadOutbox: %v", err)
	}
	want := []Message{
		{To: "first@x.test", Subject: "first", Text: "plain\n"},
		{To: "ivan@x.test", Subject: "Привет world", Text: "Привет, soft break\n"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("ReadOutbox: got %q, want %q", got, want)
	}
}

func TestReadOutboxMissingDir(t *testing.T) {
	got, err := ReadOutbox(filepath.Join(t.TempDir(), "none"))
	if err != nil || len(got) != 0 {
		t.Errorf("ReadOutbox: got %v, %v; want no messages, nil", got, err)
	}
}

func TestReadOutboxOrder(t *testing.T) {
	dir := t.TempDir()
	// Times straddle a change in the number of decimal digits of Unix
	// nanoseconds, which only zero-padding keeps in order.
	times := []time.Time{time.Unix(9, 0), time.Unix(10, 0), time.Unix(1772719629, 0)}
	for i, at := range times {
		o := &Outbox{Dir: dir, From: "a@x.test", Now: func() time.Time { return at }}
		m := Message{To: "b@x.test", Subject: fmt.Sprint(i), Text: "t\n"}
		if err := o.Send(context.Background(), m); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	msgs, err := ReadOutbox(dir)
	if err != nil {
		t.Fatalf("ReadOutbox: %v", err)
	}
	var got []string
	for _, m := range msgs {
		got = append(got, m.Subject)
	}
	if want := []string{"0", "1", "2"}; !slices.Equal(got, want) {
		t.Errorf("subjects: got %v, want %v", got, want)
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		url     string
		dir     string
		from    string
		want    string
		wantErr bool
	}{
		{"outbox", "", dir, "noreply@acme.test", "*mail.Outbox", false},
		{"smtp wins", "smtps://mail.acme.test", dir, "noreply@acme.test", "*mail.SMTP", false},
		{"nothing", "", "", "noreply@acme.test", "", true},
		{"bad from", "", dir, "noreply", "", true},
		{"bad url", "http://mail.acme.test", dir, "noreply@acme.test", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(tt.url, tt.dir, tt.from)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Open: got error %v, want error %v", err, tt.wantErr)
			}
			if got := fmt.Sprintf("%T", s); err == nil && got != tt.want {
				t.Errorf("Open: got %s, want %s", got, tt.want)
			}
		})
	}
}
