package mail

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
)

// Message is one e-mail. Text is plain text (UTF-8). No secret, TOTP code,
// recovery code or session id is ever put in one.
type Message struct {
	To      string
	Subject string
	Text    string
}

// Sender delivers a Message. Implementations are safe for concurrent use.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Open picks SMTP when smtpURL is not empty, else an Outbox in outboxDir.
// from is the From address of every message.
func Open(smtpURL, outboxDir, from string) (Sender, error) {
	if smtpURL != "" {
		return NewSMTP(smtpURL, from)
	}
	if outboxDir == "" {
		return nil, errors.New("mail: open: neither an smtp url nor an outbox folder is set")
	}
	if _, err := parseAddress(from); err != nil {
		return nil, fmt.Errorf("mail: open: from: %w", err)
	}
	return &Outbox{Dir: outboxDir, From: from, Now: time.Now}, nil
}

// parseAddress accepts one RFC 5322 address, "a@b" or "Name <a@b>".
func parseAddress(s string) (*mail.Address, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, errors.New("address contains a line break")
	}
	return mail.ParseAddress(s)
}

// domainOf returns the part after the last '@', for Message-IDs.
func domainOf(addr string) string {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 || i == len(addr)-1 {
		return "localhost"
	}
	return addr[i+1:]
}
