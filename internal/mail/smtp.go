package mail

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// ErrBadURL is wrapped by every NewSMTP error about the URL itself.
var ErrBadURL = errors.New("bad smtp url")

// tlsMode says how the connection to the mail server is protected.
type tlsMode int

const (
	tlsStartTLS tlsMode = iota // plain connect, then STARTTLS, which must succeed
	tlsImplicit                // TLS from the first byte
	tlsNone                    // no TLS at all; loopback only
)

// SMTP sends messages through a mail server with github.com/wneessen/go-mail.
// It is safe for concurrent use: every Send opens its own connection.
//
// The server is named by a URL:
//
//	smtp://[user:password@]host[:port]            STARTTLS, mandatory; port 587
//	smtps://[user:password@]host[:port]           implicit TLS; port 465
//	smtp://host[:port]/?tls=none                  no TLS; loopback hosts only
//
// The user name and password are percent-encoded. STARTTLS is never skipped
// when the server does not offer it: the messages hold password-reset links,
// and a man in the middle could otherwise strip the offer and read them. For
// the same reason tls=none is refused for any host other than localhost,
// 127.0.0.0/8 or ::1, where it serves a local relay or a test server.
type SMTP struct {
	host     string
	port     int
	user     string
	password string
	mode     tlsMode
	from     string

	// Now, Rand and Timeout may be changed before the first Send.

	// Now is the clock for the Date header; NewSMTP sets time.Now.
	Now func() time.Time
	// Rand is the source of Message-ID randomness; NewSMTP sets crypto/rand.
	// Concurrent Sends read it concurrently.
	Rand io.Reader
	// Timeout bounds connecting and every SMTP command; NewSMTP sets 15s.
	Timeout time.Duration
}

// NewSMTP parses rawURL as described on SMTP and checks from. Its errors never
// contain the password.
func NewSMTP(rawURL, from string) (*SMTP, error) {
	s, err := parseSMTPURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("mail: new smtp: %w", err)
	}
	if _, err := parseAddress(from); err != nil {
		return nil, fmt.Errorf("mail: new smtp: from: %w", err)
	}
	s.from = from
	s.Now = time.Now
	s.Rand = rand.Reader
	s.Timeout = 15 * time.Second
	return s, nil
}

// parseSMTPURL never wraps errors from net/url: they quote the whole URL, or
// pieces of it such as a bad percent-escape, and with them the password.
func parseSMTPURL(rawURL string) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: malformed; check scheme, host, port and %%-escapes", ErrBadURL)
	}
	s := &SMTP{host: u.Hostname()}
	switch u.Scheme {
	case "smtp":
		s.mode, s.port = tlsStartTLS, 587
	case "smtps":
		s.mode, s.port = tlsImplicit, 465
	default:
		return nil, fmt.Errorf("%w: scheme must be smtp or smtps", ErrBadURL)
	}

	if s.host == "" {
		return nil, fmt.Errorf("%w: no host", ErrBadURL)
	}
	if u.Path != "" && u.Path != "/" || u.Fragment != "" || u.Opaque != "" {
		return nil, fmt.Errorf("%w: unexpected path", ErrBadURL)
	}
	if p := u.Port(); p != "" {
		port, err := strconv.Atoi(p)
		if err != nil || port < 1 || port > 65535 {
			return nil, fmt.Errorf("%w: port must be 1 to 65535", ErrBadURL)
		}
		s.port = port
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.password, _ = u.User.Password()
	}

	if err := s.applyQuery(u.Query()); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *SMTP) applyQuery(q url.Values) error {
	for key := range q {
		if key != "tls" {
			return fmt.Errorf("%w: unknown option %q", ErrBadURL, key)
		}
	}
	switch v := q.Get("tls"); {
	case !q.Has("tls"):
		return nil
	case v != "none":
		return fmt.Errorf("%w: tls may only be none", ErrBadURL)
	case s.mode == tlsImplicit:
		return fmt.Errorf("%w: tls=none contradicts smtps", ErrBadURL)
	case !isLoopback(s.host):
		return fmt.Errorf("%w: tls=none is allowed only for a loopback host", ErrBadURL)
	}
	s.mode = tlsNone
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// String returns the server URL with the password replaced, for logs.
func (s *SMTP) String() string {
	u := url.URL{Scheme: "smtp", Host: net.JoinHostPort(s.host, strconv.Itoa(s.port))}
	if s.mode == tlsImplicit {
		u.Scheme = "smtps"
	}
	if s.mode == tlsNone {
		u.Path, u.RawQuery = "/", "tls=none"
	}
	if s.user != "" {
		u.User = url.UserPassword(s.user, "xxxxx")
	}
	return u.String()
}

// Send delivers m, returning when the server has accepted it or ctx is done.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg, err := s.compose(m)
	if err != nil {
		return fmt.Errorf("mail: smtp send: %w", err)
	}
	client, err := gomail.NewClient(s.host, s.options()...)
	if err != nil {
		return fmt.Errorf("mail: smtp send: %w", err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("mail: smtp send to %s: %w", s.host, err)
	}
	return nil
}

func (s *SMTP) options() []gomail.Option {
	opts := []gomail.Option{gomail.WithPort(s.port), gomail.WithTimeout(s.Timeout)}
	switch s.mode {
	case tlsImplicit:
		opts = append(opts, gomail.WithSSL())
	case tlsNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.user != "" {
		opts = append(opts,
			gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.user),
			gomail.WithPassword(s.password))
	}
	return opts
}

// compose sets our own Date and Message-ID: go-mail's default Message-ID
// would reveal the host name of the machine that sends.
func (s *SMTP) compose(m Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg(
		gomail.WithCharset(gomail.CharsetUTF8),
		gomail.WithEncoding(gomail.EncodingQP),
		gomail.WithNoDefaultUserAgent())
	if err := msg.From(s.from); err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if _, err := parseAddress(m.To); err != nil {
		return nil, fmt.Errorf("to: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("to: %w", err)
	}

	id := make([]byte, 16)
	if _, err := io.ReadFull(s.Rand, id); err != nil {
		return nil, fmt.Errorf("read random: %w", err)
	}
	from, _ := parseAddress(s.from)
	msg.SetMessageIDWithValue(hex.EncodeToString(id) + "@" + domainOf(from.Address))
	msg.SetDateWithValue(s.Now())
	msg.Subject(m.Subject)
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	return msg, nil
}
