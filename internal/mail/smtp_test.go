package mail

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// session is what the fake server heard in one connection.
type session struct {
	mailFrom string
	rcptTo   []string
	data     []byte
}

// fakeSMTP listens on a loopback port and speaks the smallest SMTP dialogue a
// client needs: no extensions, so no STARTTLS and no AUTH. Each finished
// connection is reported on sessions.
type fakeSMTP struct {
	port     string
	sessions chan session

	mu    sync.Mutex
	conns []net.Conn
}

func startFakeSMTP(t *testing.T) *fakeSMTP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	f := &fakeSMTP{sessions: make(chan session, 4)}
	_, f.port, _ = net.SplitHostPort(ln.Addr().String())
	t.Cleanup(func() {
		ln.Close()
		f.hangUp()
	})

	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.conns = append(f.conns, conn)
			f.mu.Unlock()
			go func() { f.sessions <- serveSMTP(conn) }()
		}
	}()
	return f
}

// hangUp closes every connection, ending sessions whose client went quiet.
func (f *fakeSMTP) hangUp() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conns {
		c.Close()
	}
}

func serveSMTP(conn net.Conn) session {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	reply := func(s string) { conn.Write([]byte(s + "\r\n")) }

	var s session
	reply("220 fake.test ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return s
		}
		line = strings.TrimRight(line, "\r\n")
		verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
		switch verb {
		case "EHLO", "HELO":
			reply("250 fake.test")
		case "MAIL":
			s.mailFrom = line
			reply("250 OK")
		case "RCPT":
			s.rcptTo = append(s.rcptTo, line)
			reply("250 OK")
		case "DATA":
			reply("354 end with <CRLF>.<CRLF>")
			s.data = readData(r)
			reply("250 OK queued")
		case "QUIT":
			reply("221 bye")
			return s
		case "NOOP", "RSET":
			reply("250 OK")
		default:
			reply("502 not implemented")
		}
	}
}

// readData reads up to the lone "." line and undoes dot-stuffing (RFC 5321
// section 4.5.2).
func readData(r *bufio.Reader) []byte {
	var b bytes.Buffer
	for {
		line, err := r.ReadString('\n')
		if err != nil || line == ".\r\n" {
			return b.Bytes()
		}
		b.WriteString(strings.TrimPrefix(line, "."))
	}
}

func TestSMTPSendPlainLoopback(t *testing.T) {
	srv := startFakeSMTP(t)
	s, err := NewSMTP("smtp://127.0.0.1:"+srv.port+"/?tls=none", "Acme <noreply@acme.test>")
	if err != nil {
		t.Fatalf("NewSMTP: %v", err)
	}
	s.Now = fixedClock
	m := Message{To: "ivan@x.test", Subject: "Пароль изменён",
		Text: "Здравствуйте!\n\n.Пароль вашей учётной записи изменён.\n"}

	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := <-srv.sessions
	if want := "MAIL FROM:<noreply@acme.test>"; !strings.HasPrefix(got.mailFrom, want) {
		t.Errorf("MAIL: got %q, want prefix %q", got.mailFrom, want)
	}
	if len(got.rcptTo) != 1 || !strings.HasPrefix(got.rcptTo[0], "RCPT TO:<ivan@x.test>") {
		t.Errorf("RCPT: got %q, want one RCPT TO:<ivan@x.test>", got.rcptTo)
	}

	checkWireFormat(t, got.data)
	msg := parseStd(t, got.data)
	checkHeaders(t, msg, m)
	if msg.body != m.Text {
		t.Errorf("body: got %q, want %q", msg.body, m.Text)
	}
}

// TestSMTPRequiresTLS checks that smtp:// without tls=none never falls back to
// plain text: the fake server offers no STARTTLS, so nothing may be sent.
func TestSMTPRequiresTLS(t *testing.T) {
	srv := startFakeSMTP(t)
	s, err := NewSMTP("smtp://127.0.0.1:"+srv.port, "noreply@acme.test")
	if err != nil {
		t.Fatalf("NewSMTP: %v", err)
	}
	m := Message{To: "ivan@x.test", Subject: "s", Text: "reset link\n"}
	if err := s.Send(context.Background(), m); err == nil {
		t.Fatalf("Send: got nil error, want one for a server without STARTTLS")
	}
	// TODO: go-mail v0.8.1 leaves the connection open when STARTTLS is missing
	// (DialToSMTPClientWithContext returns without closing it), so the server
	// hangs up here instead of waiting for the client.
	srv.hangUp()
	if got := <-srv.sessions; got.mailFrom != "" || got.data != nil {
		t.Errorf("session: got MAIL %q and data %q, want neither", got.mailFrom, got.data)
	}
}

func TestSMTPSendCanceled(t *testing.T) {
	srv := startFakeSMTP(t)
	s, err := NewSMTP("smtp://127.0.0.1:"+srv.port+"/?tls=none", "noreply@acme.test")
	if err != nil {
		t.Fatalf("NewSMTP: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = s.Send(ctx, Message{To: "ivan@x.test", Subject: "s", Text: "t"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Send: got %v, want context.Canceled", err)
	}
}

func TestNewSMTPErrorsHidePassword(t *testing.T) {
	const secret = "hunter2"
	tests := []struct {
		name string
		url  string
	}{
		{"port too large", "smtp://bob:hunter2@mail.acme.test:99999"},
		{"port zero", "smtp://bob:hunter2@mail.acme.test:0"},
		{"port not a number", "smtp://bob:hunter2@mail.acme.test:25x"},
		{"bad escape in password", "smtp://bob:hunter2%zz@mail.acme.test:587"},
		{"bad scheme", "http://bob:hunter2@mail.acme.test"},
		{"no host", "smtp://bob:hunter2@:587"},
		{"path", "smtp://bob:hunter2@mail.acme.test/x"},
		{"unknown option", "smtp://bob:hunter2@mail.acme.test?secret=hunter2"},
		{"unknown tls value", "smtp://bob:hunter2@mail.acme.test?tls=off"},
		{"tls none with smtps", "smtps://bob:hunter2@127.0.0.1?tls=none"},
		{"tls none remote", "smtp://bob:hunter2@mail.acme.test?tls=none"},
		{"tls none on private address", "smtp://10.0.0.1:25/?tls=none&x=hunter2"},
		{"space in host", "smtp://bob:hunter2@mail acme.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewSMTP(tt.url, "noreply@acme.test")
			if err == nil {
				t.Fatalf("NewSMTP: got nil error, want one")
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error: got %q, which contains the password", err)
			}
		})
	}
}

func TestNewSMTPBadFrom(t *testing.T) {
	if _, err := NewSMTP("smtps://mail.acme.test", "noreply"); err == nil {
		t.Errorf("NewSMTP: got nil error for From %q, want one", "noreply")
	}
}

func TestNewSMTPAccepts(t *testing.T) {
	tests := []struct {
		url  string
		want string
	}{
		{"smtp://bob:hunter2@mail.acme.test", "smtp://bob:xxxxx@mail.acme.test:587"},
		{"smtp://mail.acme.test:2525/", "smtp://mail.acme.test:2525"},
		{"smtps://b%40a:p%40ss@mail.acme.test", "smtps://b%40a:xxxxx@mail.acme.test:465"},
		{"smtps://mail.acme.test:1465", "smtps://mail.acme.test:1465"},
		{"smtp://localhost/?tls=none", "smtp://localhost:587/?tls=none"},
		{"smtp://127.0.0.2:25?tls=none", "smtp://127.0.0.2:25/?tls=none"},
		{"smtp://[::1]:2525/?tls=none", "smtp://[::1]:2525/?tls=none"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			s, err := NewSMTP(tt.url, "noreply@acme.test")
			if err != nil {
				t.Fatalf("NewSMTP: %v", err)
			}
			if got := s.String(); got != tt.want {
				t.Errorf("String: got %q, want %q", got, tt.want)
			}
		})
	}
}
