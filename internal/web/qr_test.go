package web

import (
	"bytes"
	"image"
	"image/png"
	"strings"
	"testing"

	"github.com/clientarea/clientarea/internal/zbar"
)

// TestQRPNG decodes our QR codes with zbarimg, a decoder that shares no
// code with the encoder, and checks the image size and the quiet zone.
func TestQRPNG(t *testing.T) {
	const params = "&algorithm=SHA1&digits=6&period=30"
	tests := []struct{ name, text string }{
		{"plain", "otpauth://totp/Client%20Area:alice%40example.com?secret=" +
			"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Client%20Area" + params},
		{"escaped issuer", "otpauth://totp/A%26B%3A%20%D0%9A%D0%BB:bob%2Btag%40example.com?" +
			"secret=JBSWY3DPEHPK3PXP&issuer=A%26B%3A%20%D0%9A%D0%BB" + params},
		{"long account", "otpauth://totp/Acme:" + strings.Repeat("x", 200) + "%40example.com?" +
			"secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme" + params},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := qrPNG(tt.text)
			if err != nil {
				t.Fatalf("qrPNG: %v", err)
			}
			if got := zbar.Decode(t, b); got != tt.text {
				t.Fatalf("zbarimg read %q, want %q", got, tt.text)
			}
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("png: %v", err)
			}
			checkQuietZone(t, img)
		})
	}
}

// checkQuietZone measures the module size from the top-left finder
// pattern, whose first row is a run of 7 dark modules, and wants 4 white
// modules around the symbol on every side, and a side of at least 256
// pixels.
func checkQuietZone(t *testing.T, img image.Image) {
	t.Helper()
	b := img.Bounds()
	if b.Dx() != b.Dy() || b.Dx() < 256 {
		t.Fatalf("got a %dx%d image, want a square of at least 256 pixels", b.Dx(), b.Dy())
	}
	dk := image.Rectangle{} // bounding box of the dark pixels
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if dark(img.At(x, y)) {
				dk = dk.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	run := 0
	for x := dk.Min.X; x < b.Max.X && dark(img.At(x, dk.Min.Y)); x++ {
		run++
	}
	if run == 0 || run%7 != 0 {
		t.Fatalf("got a finder row of %d pixels, want 7 modules of whole pixels", run)
	}
	quiet := 4 * run / 7
	margins := []int{dk.Min.X - b.Min.X, dk.Min.Y - b.Min.Y, b.Max.X - dk.Max.X, b.Max.Y - dk.Max.Y}
	for _, m := range margins {
		if m < quiet {
			t.Fatalf("got margins %v pixels, want at least %d (4 modules)", margins, quiet)
		}
	}
}
