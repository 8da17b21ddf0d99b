package totp

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
)

var base32NoPad = regexp.MustCompile(`^[A-Z2-7]+$`)

// TestDecodeSecretRFC4648 checks decoding against the Base32 vectors of RFC 4648,
// section 10, in every spelling DecodeSecret accepts.
func TestDecodeSecretRFC4648(t *testing.T) {
	tests := []struct{ enc, want string }{
		{"MY======", "f"},
		{"MZXQ====", "fo"},
		{"MZXW6===", "foo"},
		{"MZXW6YQ=", "foob"},
		{"MZXW6YTB", "fooba"},
		{"MZXW6YTBOI======", "foobar"},
		{"JBSWY3DPEHPK3PXP", "Hello!\xde\xad\xbe\xef"},
	}
	for _, tt := range tests {
		unpadded := strings.TrimRight(tt.enc, "=")
		spellings := []string{
			tt.enc,
			unpadded,
			strings.ToLower(tt.enc),
			strings.ToLower(unpadded),
			" " + GroupSecret(unpadded) + "\n",
		}
		for _, s := range spellings {
			t.Run(s, func(t *testing.T) {
				got, err := DecodeSecret(s)
				if err != nil {
					t.Fatalf("DecodeSecret(%q): %v", s, err)
				}
				if string(got) != tt.want {
					t.Errorf("DecodeSecret(%q): got %q, want %q", s, got, tt.want)
				}
			})
		}
	}
}

// TestEncodeSecret checks encoding against RFC 4648's vectors with padding removed.
func TestEncodeSecret(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"f", "MY"},
		{"fo", "MZXQ"},
		{"foo", "MZXW6"},
		{"foob", "MZXW6YQ"},
		{"fooba", "MZXW6YTB"},
		{"foobar", "MZXW6YTBOI"},
		{"12345678901234567890", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"},
	}
	for _, tt := range tests {
		if got := EncodeSecret([]byte(tt.in)); got != tt.want {
			t.Errorf("EncodeSecret(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestDecodeSecretOddLength covers field case C03: a 16-byte secret needs padding in
// Base32, and must give the same codes unpadded, padded and in lower case.
func TestDecodeSecretOddLength(t *testing.T) {
	v := loadVectors(t)
	seed16 := v.Secrets["SEED16"]
	spellings := []string{
		seed16,
		seed16 + "======",
		strings.ToLower(seed16),
		strings.ToLower(seed16) + "======",
		GroupSecret(seed16),
	}
	for _, s := range spellings {
		t.Run(s, func(t *testing.T) {
			secret, err := DecodeSecret(s)
			if err != nil {
				t.Fatalf("DecodeSecret(%q): %v", s, err)
			}
			if string(secret) != "1234567890123456" {
				t.Fatalf("DecodeSecret(%q): got %q, want %q", s, secret, "1234567890123456")
			}
			if got := Code(secret, unix(59)); got != "970934" {
				t.Errorf("Code at 59: got %s, want 970934", got)
			}
			if got := Code(secret, unix(v.ClockT0)); got != "703839" {
				t.Errorf("Code at T0: got %s, want 703839", got)
			}
		})
	}
}

// TestDecodeSecretInvalid checks that impossible secrets fail with ErrInvalidSecret and
// that the error does not repeat the secret.
func TestDecodeSecretInvalid(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"only spaces", "   \t"},
		{"only padding", "========"},
		{"length 1", "G"},
		{"length 3", "GEZ"},
		{"length 6", "GEZDGN"},
		{"length 9", "GEZDGNBVG"},
		{"length 27", "GEZDGNBVGY3TQOJQGEZDGNBVGY3"},
		{"too little padding", "GEZDGNBVGY3TQOJQGEZDGNBVGY="},
		{"too much padding", "GEZDGNBVGY3TQOJQGEZDGNBVGY======="},
		{"padding on full block", "GEZDGNBV========"},
		{"padding inside", "GEZD=NBVGY3TQOJQ"},
		{"digit one", "GEZDGNBVGY3TQOJ1"},
		{"digit zero", "0EZDGNBVGY3TQOJQ"},
		{"digit eight", "GEZDGNBVGY3TQOJ8"},
		{"hyphen", "GEZD-GNBV-GY3T-QOJQ"},
		{"non-ASCII", "GEZDGNBVGY3TQOJÄ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeSecret(tt.in)
			if !errors.Is(err, ErrInvalidSecret) {
				t.Fatalf("DecodeSecret(%q): got %x, %v; want ErrInvalidSecret", tt.in, got, err)
			}
			if s := strings.TrimSpace(tt.in); s != "" && strings.Contains(err.Error(), s) {
				t.Errorf("error %q repeats the secret", err)
			}
		})
	}
}

// TestNewSecret covers field cases C04 and C05 with the production random source: every
// secret has SecretSize bytes, no two are equal, and the encoded form needs no padding.
func TestNewSecret(t *testing.T) {
	seen := make(map[string]bool)
	for range 20 {
		secret, err := NewSecret(rand.Reader)
		if err != nil {
			t.Fatalf("NewSecret: %v", err)
		}
		if len(secret) != 20 {
			t.Fatalf("got %d bytes, want 20", len(secret))
		}
		if seen[string(secret)] {
			t.Fatalf("secret repeated after %d enrolments", len(seen))
		}
		seen[string(secret)] = true

		enc := EncodeSecret(secret)
		if !base32NoPad.MatchString(enc) || len(enc) != 32 {
			t.Errorf("EncodeSecret: got %d characters not matching %s", len(enc), base32NoPad)
		}
		back, err := DecodeSecret(enc)
		if err != nil || !bytes.Equal(back, secret) {
			t.Errorf("DecodeSecret(EncodeSecret(secret)): got %x, %v; want the secret", back, err)
		}
	}
}

// TestNewSecretReader checks that the secret comes from the injected reader and that a
// short reader is an error rather than a short secret.
func TestNewSecretReader(t *testing.T) {
	got, err := NewSecret(strings.NewReader("12345678901234567890extra"))
	if err != nil {
		t.Fatalf("NewSecret: %v", err)
	}
	if string(got) != "12345678901234567890" {
		t.Errorf("got %q, want %q", got, "12345678901234567890")
	}

	got, err = NewSecret(strings.NewReader("1234567890"))
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short reader: got %x, %v; want io.ErrUnexpectedEOF", got, err)
	}
}

func TestGroupSecret(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"ABC", "ABC"},
		{"ABCD", "ABCD"},
		{"ABCDE", "ABCD E"},
		{"JBSWY3DPEHPK3PXP", "JBSW Y3DP EHPK 3PXP"},
		{"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ"},
		{"GEZDGNBVGY3TQOJQGEZDGNBVGY", "GEZD GNBV GY3T QOJQ GEZD GNBV GY"},
	}
	for _, tt := range tests {
		if got := GroupSecret(tt.in); got != tt.want {
			t.Errorf("GroupSecret(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}
