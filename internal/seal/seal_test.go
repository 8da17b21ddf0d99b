package seal

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// seqKey returns the key whose bytes are first, first+1, ..., first+31.
func seqKey(first byte) Key {
	var k Key
	for i := range k {
		k[i] = first + byte(i)
	}
	return k
}

func mustKeyring(t testing.TB, keys ...Key) *Keyring {
	t.Helper()
	r, err := NewKeyring(keys...)
	if err != nil {
		t.Fatalf("NewKeyring: %v", err)
	}
	return r
}

func mustDecodeHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("decode test vector: %v", err)
	}
	return b
}

// The vectors below were computed outside Go: key ids with
// `openssl dgst -sha256 -mac HMAC -macopt hexkey:<key>` over "clientarea key id", and
// pythonBlob with Python's cryptography package (AESGCM) for key 00..1f, nonce a0..ab,
// plaintext "JBSWY3DPEHPK3PXP" and associated data header || "account:42".
const pythonBlob = "01dcb77808f50c5ccca0a1a2a3a4a5a6a7a8a9aaab" +
	"ac5a2f7a1cf846ef272dd798342a988e554094d193100d4c58d1b7298549ae87"

func TestKeyID(t *testing.T) {
	tests := []struct {
		key  Key
		want string
	}{
		{seqKey(0), "dcb77808f50c5ccc"},
		{Key(bytes.Repeat([]byte{0xff}, 32)), "f8c125d5ff02c58a"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := tc.key.ID(); got != tc.want {
				t.Errorf("ID() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseKey(t *testing.T) {
	const digits = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	for _, in := range []string{digits, strings.ToUpper(digits)} {
		got, err := ParseKey(in)
		if err != nil || got != seqKey(0) {
			t.Errorf("ParseKey(%q) = %v, %v; want key 00..1f", in, got.ID(), err)
		}
	}

	bad := map[string]string{
		"empty":        "",
		"short":        digits[:62],
		"long":         digits + "20",
		"odd":          digits[:63],
		"not hex":      "g" + digits[1:],
		"space inside": digits[:30] + " " + digits[31:],
		"leading 0x":   "0x" + digits[2:],
		"non-ASCII":    "é" + digits[2:],
	}
	for name, in := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := ParseKey(in)
			if err == nil {
				t.Fatal("ParseKey: got nil error")
			}
			msg := err.Error()
			for i := 0; i+8 <= len(in); i++ {
				if strings.Contains(msg, in[i:i+8]) {
					t.Fatalf("error %q quotes the input", msg)
				}
			}
			if strings.Contains(msg, "'g'") || strings.Contains(msg, "U+") {
				t.Errorf("error %q quotes a character of the input", msg)
			}
		})
	}
}

func TestKeyFormatHidesKey(t *testing.T) {
	k := seqKey(0)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"} {
		got := fmt.Sprintf(verb, k)
		if got != "seal.Key(dcb77808f50c5ccc)" {
			t.Errorf("Sprintf(%s, key) = %q, want seal.Key(dcb77808f50c5ccc)", verb, got)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	r := mustKeyring(t, seqKey(0))
	tests := []struct {
		name      string
		plaintext []byte
		ad        []byte
	}{
		{"empty", nil, []byte("account:1")},
		{"totp secret", []byte("JBSWY3DPEHPK3PXP"), []byte("account:42")},
		{"no associated data", []byte("secret"), nil},
		{"large", bytes.Repeat([]byte{7}, 5000), []byte("account:9")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			blob, err := r.Seal(tc.plaintext, tc.ad)
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			if got, want := len(blob), 1+8+12+len(tc.plaintext)+16; got != want {
				t.Errorf("len(blob) = %d, want %d", got, want)
			}
			got, err := r.Open(blob, tc.ad)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !bytes.Equal(got, tc.plaintext) {
				t.Errorf("Open = %q, want %q", got, tc.plaintext)
			}
		})
	}
}

func TestSealUsesFreshNonces(t *testing.T) {
	r := mustKeyring(t, seqKey(0))
	a, errA := r.Seal([]byte("same"), nil)
	b, errB := r.Seal([]byte("same"), nil)
	if errA != nil || errB != nil {
		t.Fatalf("Seal: %v, %v", errA, errB)
	}
	if bytes.Equal(a, b) {
		t.Error("two seals of one plaintext are equal, want different nonces")
	}
}

func TestOpenWrongAssociatedData(t *testing.T) {
	r := mustKeyring(t, seqKey(0))
	blob, err := r.Seal([]byte("JBSWY3DPEHPK3PXP"), []byte("account:42"))
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	for _, ad := range []string{"account:43", "account:4", "", "account:42 "} {
		if _, err := r.Open(blob, []byte(ad)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("Open(ad %q) = %v, want ErrCorrupt", ad, err)
		}
	}
}

func TestOpenTampered(t *testing.T) {
	r := mustKeyring(t, seqKey(0))
	ad := []byte("account:42")
	blob, err := r.Seal([]byte("JBSWY3DPEHPK3PXP"), ad)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	for i := range blob {
		tampered := bytes.Clone(blob)
		tampered[i] ^= 0x01
		want := ErrCorrupt
		if 1 <= i && i < 9 {
			want = ErrUnknownKey // a changed key id names no key of the ring
		}
		if _, err := r.Open(tampered, ad); !errors.Is(err, want) {
			t.Errorf("Open(byte %d flipped) = %v, want %v", i, err, want)
		}
	}
	for _, n := range []int{0, 1, 9, 21, 36, len(blob) - 1} {
		if _, err := r.Open(blob[:n], ad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("Open(first %d bytes) = %v, want ErrCorrupt", n, err)
		}
	}
}

func TestOpenUnknownKey(t *testing.T) {
	blob, err := mustKeyring(t, seqKey(0)).Seal([]byte("x"), nil)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	other := mustKeyring(t, seqKey(100), seqKey(200))
	if _, err := other.Open(blob, nil); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("Open = %v, want ErrUnknownKey", err)
	}
}

func TestRotation(t *testing.T) {
	oldKey, newKey := seqKey(0), seqKey(100)
	oldBlob, err := mustKeyring(t, oldKey).Seal([]byte("old secret"), []byte("a:1"))
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	rotated := mustKeyring(t, newKey, oldKey)

	got, err := rotated.Open(oldBlob, []byte("a:1"))
	if err != nil || string(got) != "old secret" {
		t.Fatalf("Open(old blob) = %q, %v; want old secret", got, err)
	}
	newBlob, err := rotated.Seal([]byte("new secret"), []byte("a:1"))
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if got, want := hex.EncodeToString(newBlob[1:9]), newKey.ID(); got != want {
		t.Errorf("new blob names key %s, want the new primary %s", got, want)
	}
	if _, err := mustKeyring(t, oldKey).Open(newBlob, []byte("a:1")); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("old ring Open(new blob) = %v, want ErrUnknownKey", err)
	}
}

// TestKnownAnswer checks the blob layout against AES-GCM computed without our framing code.
func TestKnownAnswer(t *testing.T) {
	key := seqKey(0)
	nonce := mustDecodeHex(t, "a0a1a2a3a4a5a6a7a8a9aaab")
	header := mustDecodeHex(t, "01"+"dcb77808f50c5ccc")
	plaintext := []byte("JBSWY3DPEHPK3PXP")
	ad := []byte("account:42")

	block, err := aes.NewCipher(key[:])
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	byHand := append(append(bytes.Clone(header), nonce...),
		gcm.Seal(nil, nonce, plaintext, append(bytes.Clone(header), ad...))...)

	r := mustKeyring(t, key)
	blobs := map[string][]byte{
		"crypto/aes by hand": byHand,
		"python":             mustDecodeHex(t, pythonBlob),
	}
	for name, blob := range blobs {
		t.Run(name, func(t *testing.T) {
			got, err := r.Open(blob, ad)
			if err != nil || !bytes.Equal(got, plaintext) {
				t.Errorf("Open = %q, %v; want %q", got, err, plaintext)
			}
		})
	}

	r.rand = bytes.NewReader(nonce)
	sealed, err := r.Seal(plaintext, ad)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if got := hex.EncodeToString(sealed); got != pythonBlob {
		t.Errorf("Seal with nonce a0..ab = %s, want %s", got, pythonBlob)
	}
}

func TestNewKeyringErrors(t *testing.T) {
	if _, err := NewKeyring(); err == nil {
		t.Error("NewKeyring(): got nil error")
	}
	if _, err := NewKeyring(seqKey(0), seqKey(1), seqKey(0)); err == nil {
		t.Error("NewKeyring(k0, k1, k0): got nil error")
	}
}

func TestPrimaryAndHas(t *testing.T) {
	r := mustKeyring(t, seqKey(100), seqKey(0))
	if r.Primary() != seqKey(100) {
		t.Errorf("Primary() = %v, want %v", r.Primary(), seqKey(100))
	}
	tests := []struct {
		id   string
		want bool
	}{
		{seqKey(0).ID(), true},
		{"DCB77808F50C5CCC", true},
		{seqKey(100).ID(), true},
		{seqKey(50).ID(), false},
		{"", false},
		{"dcb77808", false},
		{"not hex at all!!", false},
	}
	for _, tc := range tests {
		if got := r.Has(tc.id); got != tc.want {
			t.Errorf("Has(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
}

func TestKeyringConcurrentUse(t *testing.T) {
	r := mustKeyring(t, seqKey(0), seqKey(100))
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Go(func() {
			ad := []byte(fmt.Sprintf("account:%d", i))
			for range 50 {
				blob, err := r.Seal(ad, ad)
				if err == nil {
					_, err = r.Open(blob, ad)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Seal/Open: %v", err)
	}
}

func BenchmarkOpen(b *testing.B) {
	r := mustKeyring(b, seqKey(0), seqKey(100))
	ad := []byte("account:42")
	blob, err := r.Seal([]byte("JBSWY3DPEHPK3PXPJBSWY3DP"), ad)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := r.Open(blob, ad); err != nil {
			b.Fatal(err)
		}
	}
}
