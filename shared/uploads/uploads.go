// Package uploads is the uploads bucket on Cloud Storage (fake-gcs-server locally): the
// scribe's reads and deletions of upload objects, and the V4-signed URLs clients upload
// to.
package uploads

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/storage"

	"github.com/medi-os/medi/shared/scribe"
)

// GCS implements scribe.Objects with Cloud Storage (fake-gcs-server in development, via
// STORAGE_EMULATOR_HOST).
type GCS struct{ Client *storage.Client }

var _ scribe.Objects = GCS{}

func (g GCS) obj(bucket, object string, generation int64) *storage.ObjectHandle {
	o := g.Client.Bucket(bucket).Object(object)
	if generation > 0 {
		o = o.Generation(generation)
	}
	return o
}

// Head implements scribe.Objects.
func (g GCS) Head(ctx context.Context, bucket, object string, generation int64, n int64) ([]byte, error) {
	r, err := g.obj(bucket, object, generation).NewRangeReader(ctx, 0, n)
	if errors.Is(err, storage.ErrObjectNotExist) {
		return nil, scribe.ErrObjectMissing
	}
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(io.LimitReader(r, n))
}

// Read implements scribe.Objects.
func (g GCS) Read(ctx context.Context, bucket, object string, generation int64, limit int64) ([]byte, error) {
	r, err := g.obj(bucket, object, generation).NewReader(ctx)
	if errors.Is(err, storage.ErrObjectNotExist) {
		return nil, scribe.ErrObjectMissing
	}
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("scribe: object larger than %d bytes", limit)
	}
	return b, nil
}

// Delete implements scribe.Objects.
func (g GCS) Delete(ctx context.Context, bucket, object string, generation int64) error {
	err := g.obj(bucket, object, generation).Delete(ctx)
	if errors.Is(err, storage.ErrObjectNotExist) {
		return nil
	}
	return err
}

// UploadURL is a signed upload URL with what the client must send with it.
type UploadURL struct {
	URL     string            `json:"url"`
	Method  string            `json:"method"`
	Headers map[string]string `json:"headers"`
	Expires time.Time         `json:"expiresAt"`
}

// URLSigner signs V4 PUT URLs for uploads.
//
// In staging and production GoogleAccessID and PrivateKey are empty: the storage client
// finds the function's service account on the metadata server and signs through the IAM
// Credentials signBlob API (the account needs roles/iam.serviceAccountTokenCreator on
// itself; no key file exists). In development fake-gcs-server does not check signatures,
// but the client still needs something to sign with: DevSigner returns a signer with a
// key generated in memory; the URL's host is the emulator's (STORAGE_EMULATOR_HOST).
type URLSigner struct {
	Client         *storage.Client
	GoogleAccessID string
	PrivateKey     []byte // PEM
	// Insecure makes an http:// URL (the emulator).
	Insecure bool
	// TTL is how long the URL is valid (default 15 minutes).
	TTL time.Duration
}

// DevSigner returns a signer for the local stack: an RSA key generated in memory and the
// emulator's host, taken from STORAGE_EMULATOR_HOST (e.g. "http://127.0.0.1:4443").
func DevSigner(c *storage.Client, emulatorHost string) (*URLSigner, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	return &URLSigner{
		Client: c, GoogleAccessID: "scribe-dev@medi-local.iam.gserviceaccount.com", PrivateKey: pemKey,
		Insecure: !strings.HasPrefix(emulatorHost, "https://"),
	}, nil
}

// ContentLengthRangeHeader pins an upload's size on a signed URL.
const ContentLengthRangeHeader = "x-goog-content-length-range"

// MetadataHeaderPrefix starts the request header of each custom metadata entry of an
// object written through the XML API (a signed URL): x-goog-meta-<key>.
const MetadataHeaderPrefix = "x-goog-meta-"

// SignUpload returns a PUT URL for object with the content type, the size range
// [0, maxBytes] and the custom metadata pinned (each entry a signed x-goog-meta-<key>
// header, stored as the object's metadata): the client must send exactly these headers.
// The metadata values are not in the URL, so the URL alone cannot write the object.
func (u *URLSigner) SignUpload(ctx context.Context, bucket, object, contentType string, maxBytes int64, metadata map[string]string, now time.Time) (UploadURL, error) {
	ttl := u.TTL
	if ttl <= 0 {
		ttl = 15 * time.Minute
	}
	rangeHdr := fmt.Sprintf("0,%d", maxBytes)
	exp := now.Add(ttl).UTC().Truncate(time.Second)
	headers := map[string]string{"Content-Type": contentType, ContentLengthRangeHeader: rangeHdr}
	signed := []string{ContentLengthRangeHeader + ":" + rangeHdr}
	for k, v := range metadata {
		h := MetadataHeaderPrefix + strings.ToLower(k)
		headers[h] = v
		signed = append(signed, h+":"+v)
	}
	slices.Sort(signed)
	opts := &storage.SignedURLOptions{
		Scheme:      storage.SigningSchemeV4,
		Method:      http.MethodPut,
		Expires:     exp,
		ContentType: contentType,
		Headers:     signed,
		Insecure:    u.Insecure,
	}
	if u.GoogleAccessID != "" {
		opts.GoogleAccessID, opts.PrivateKey = u.GoogleAccessID, u.PrivateKey
	}
	url, err := u.Client.Bucket(bucket).SignedURL(object, opts)
	if err != nil {
		return UploadURL{}, fmt.Errorf("scribe: signing upload URL: %w", err)
	}
	return UploadURL{URL: url, Method: http.MethodPut, Expires: exp, Headers: headers}, nil
}
