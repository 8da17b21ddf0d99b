package web

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"github.com/boombuler/barcode/qr"
)

const (
	// qrQuietZone is the white border, in modules, that ISO/IEC 18004 asks
	// for around a QR code; scanners fail on dark page backgrounds without it.
	qrQuietZone = 4
	// qrMinPixels is the smallest side of the image: large enough to scan
	// from a laptop screen.
	qrMinPixels = 256
)

// qrPNG draws text as a QR code PNG with error correction level M, whole
// pixels per module, and the quiet zone.
func qrPNG(text string) ([]byte, error) {
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	modules := code.Bounds().Dx()
	side := modules + 2*qrQuietZone
	scale := (qrMinPixels + side - 1) / side
	img := image.NewPaletted(image.Rect(0, 0, side*scale, side*scale),
		color.Palette{color.White, color.Black})
	for y := range modules {
		for x := range modules {
			if dark(code.At(x, y)) {
				fill(img, (x+qrQuietZone)*scale, (y+qrQuietZone)*scale, scale)
			}
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, fmt.Errorf("qr code: %w", err)
	}
	return b.Bytes(), nil
}

// fill paints one module black (palette index 1).
func fill(img *image.Paletted, x0, y0, scale int) {
	for y := y0; y < y0+scale; y++ {
		for x := x0; x < x0+scale; x++ {
			img.SetColorIndex(x, y, 1)
		}
	}
}

func dark(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return r+g+b < 3*0x8000
}
