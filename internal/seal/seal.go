// Package seal encrypts secrets at rest, such as TOTP secrets, with AES-256-GCM.
//
// A sealed blob is
//
//	version (1 byte, 1) | key id (8 bytes) | nonce (12 bytes) | ciphertext and tag
//
// and GCM authenticates the 9-byte header followed by the caller's associated data. Callers
// pass the owner of the secret (an account id) as associated data, so a blob copied to
// another row does not open there.
//
// Nonces are random. With 96-bit random nonces one key may seal about 2^32 blobs before a
// nonce repeat becomes a real risk; a client area seals a secret per enrolment, far below
// that, and rotating the key resets the count.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
)

const (
	version   = 1
	idLen     = 8
	nonceLen  = 12
	headerLen = 1 + idLen
	overhead  = headerLen + nonceLen + 16
)

// ErrUnknownKey is returned by Open when no key of the keyring has the blob's key id.
var ErrUnknownKey = errors.New("seal: blob sealed with a key not in the keyring")

// ErrCorrupt is returned by Open when the blob is malformed or was altered, or when the
// associated data differs from the data it was sealed with.
var ErrCorrupt = errors.New("seal: blob corrupt or associated data differs")

// Key is an AES-256 key. Its fmt verbs print only its ID, so a key put in a log by mistake
// does not leak.
type Key [32]byte

// ParseKey parses a key written as exactly 64 hexadecimal digits. Its errors never quote
// the input.
func ParseKey(hex64 string) (Key, error) {
	var k Key
	if len(hex64) != 2*len(k) {
		return Key{}, errors.New("seal: parse key: want 64 hexadecimal digits")
	}
	// hex.Decode's error quotes the offending character, which is part of the key.
	if _, err := hex.Decode(k[:], []byte(hex64)); err != nil {
		return Key{}, errors.New("seal: parse key: not hexadecimal")
	}
	return k, nil
}

// ID returns a short public name of the key: the first 8 bytes of
// HMAC-SHA256(k, "clientarea key id") in hexadecimal. The database stores it as a check that
// the configured key is the one the data was sealed with; being a MAC output, it reveals
// nothing about the key.
func (k Key) ID() string {
	id := k.rawID()
	return hex.EncodeToString(id[:])
}

func (k Key) rawID() [idLen]byte {
	mac := hmac.New(sha256.New, k[:])
	mac.Write([]byte("clientarea key id"))
	return [idLen]byte(mac.Sum(nil))
}

// String returns "seal.Key(<id>)".
func (k Key) String() string {
	return "seal.Key(" + k.ID() + ")"
}

// Format prints k.String() for every verb, %x and %d included.
func (k Key) Format(f fmt.State, verb rune) {
	io.WriteString(f, k.String())
}

// hexString returns the key's 64 hexadecimal digits, for the key file only.
func (k Key) hexString() string {
	return hex.EncodeToString(k[:])
}

// Keyring seals with its primary key and opens blobs of any of its keys. It is immutable
// after NewKeyring, and so safe for concurrent use.
type Keyring struct {
	keys  []Key
	aeads map[[idLen]byte]cipher.AEAD
	rand  io.Reader
}

// NewKeyring returns a keyring whose first key seals and whose every key opens. To rotate,
// put the new key first and keep the old ones after it until no blob names them.
func NewKeyring(keys ...Key) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("seal: new keyring: no keys")
	}
	r := &Keyring{
		keys:  append([]Key(nil), keys...),
		aeads: make(map[[idLen]byte]cipher.AEAD),
		rand:  rand.Reader,
	}
	for i, k := range keys {
		id := k.rawID()
		if _, dup := r.aeads[id]; dup {
			return nil, fmt.Errorf("seal: new keyring: key %d repeats an earlier key", i+1)
		}
		// Go's AES-GCM keeps only key-derived, read-only state, so one AEAD serves every
		// goroutine.
		block, err := aes.NewCipher(k[:])
		if err != nil {
			return nil, fmt.Errorf("seal: new keyring: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("seal: new keyring: %w", err)
		}
		r.aeads[id] = aead
	}
	return r, nil
}

// Primary returns the key that seals.
func (r *Keyring) Primary() Key {
	return r.keys[0]
}

// Has reports whether the keyring holds the key with the given ID.
func (r *Keyring) Has(id string) bool {
	raw, err := hex.DecodeString(id)
	if err != nil || len(raw) != idLen {
		return false
	}
	_, ok := r.aeads[[idLen]byte(raw)]
	return ok
}

// Seal encrypts plaintext with the primary key under a random nonce and binds it to
// associatedData, which Open must be given again.
func (r *Keyring) Seal(plaintext, associatedData []byte) ([]byte, error) {
	id := r.keys[0].rawID()
	blob := make([]byte, headerLen+nonceLen, overhead+len(plaintext))
	blob[0] = version
	copy(blob[1:headerLen], id[:])

	nonce := blob[headerLen : headerLen+nonceLen]
	if _, err := io.ReadFull(r.rand, nonce); err != nil {
		return nil, fmt.Errorf("seal: read nonce: %w", err)
	}
	ad := append(blob[:headerLen:headerLen], associatedData...)
	return r.aeads[id].Seal(blob, nonce, plaintext, ad), nil
}

// Open decrypts a blob made by Seal with the same associated data. It returns ErrUnknownKey
// when the blob names a key the keyring lacks, and ErrCorrupt when the blob or the
// associated data is not what was sealed.
func (r *Keyring) Open(blob, associatedData []byte) ([]byte, error) {
	if len(blob) < overhead || blob[0] != version {
		return nil, ErrCorrupt
	}
	aead, ok := r.aeads[[idLen]byte(blob[1:headerLen])]
	if !ok {
		return nil, ErrUnknownKey
	}

	nonce := blob[headerLen : headerLen+nonceLen]
	ad := append(blob[:headerLen:headerLen], associatedData...)
	plaintext, err := aead.Open(nil, nonce, blob[headerLen+nonceLen:], ad)
	if err != nil {
		return nil, ErrCorrupt
	}
	return plaintext, nil
}

// NewKey makes a random key from r (crypto/rand when r is nil).
func NewKey(r io.Reader) (Key, error) {
	if r == nil {
		r = rand.Reader
	}
	var k Key
	if _, err := io.ReadFull(r, k[:]); err != nil {
		return Key{}, fmt.Errorf("seal: new key: %w", err)
	}
	return k, nil
}

// Keys returns the keyring's keys, the primary first.
func (r *Keyring) Keys() []Key {
	return append([]Key(nil), r.keys...)
}

// SealedByPrimary reports whether blob names the primary key, which tells
// key rotation what is left to re-encrypt.
func (r *Keyring) SealedByPrimary(blob []byte) bool {
	id := r.keys[0].rawID()
	return len(blob) >= headerLen && blob[0] == version && [idLen]byte(blob[1:headerLen]) == id
}
