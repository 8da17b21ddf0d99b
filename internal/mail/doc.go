// Package mail sends the e-mails clientarea writes to its customers: security
// notices after account changes, password-reset links and confirmations.
//
// Two senders share the Sender interface. SMTP delivers through a mail server
// named by a URL; Outbox writes each message as an .eml file into a folder, for
// development, for installations that hand files to another program, and for
// tests, which read the folder back with ReadOutbox.
//
// A Message never carries a secret: no password, TOTP secret, one-time code,
// recovery code or session id. A password-reset or confirmation link does carry
// a single-use token, which is why SMTP refuses to send without TLS to anything
// but a loopback address.
package mail
