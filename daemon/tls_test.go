package daemon

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shixincheck/shixincheck/courtsim"
)

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// their paths and a pool that trusts it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "shixincheck test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestServesHTTPS: with a certificate the daemon speaks HTTPS only, and a
// certificate it cannot load stops the start.
func TestServesHTTPS(t *testing.T) {
	env := newTestEnv(t, courtsim.DefaultConfig())
	env.cfg.TLSCert, env.cfg.TLSKey, _ = selfSigned(t, t.TempDir())
	_, _, pool := selfSigned(t, t.TempDir()) // another certificate: must not be trusted
	certPool := x509.NewCertPool()
	certPEM, _ := os.ReadFile(env.cfg.TLSCert)
	certPool.AppendCertsFromPEM(certPEM)

	d := env.start(t)
	defer d.Close()
	if !strings.HasPrefix(d.URL(), "https://") {
		t.Fatalf("URL %s", d.URL())
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: certPool}}}
	resp, err := client.Get(d.URL() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("healthz over HTTPS: %d", resp.StatusCode)
	}
	strange := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	if _, err := strange.Get(d.URL() + "/healthz"); err == nil {
		t.Error("a client trusting another certificate got through")
	}
	if resp, err := http.Get("http://" + strings.TrimPrefix(d.URL(), "https://") + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP answered on the HTTPS port")
		}
	}

	bad := env.cfg
	bad.DataDir = t.TempDir()
	bad.Ledger = filepath.Join(bad.DataDir, "ledger.db")
	bad.TLSKey = bad.TLSCert // a certificate is no key
	if d, err := Start(context.Background(), bad, slog.New(slog.DiscardHandler)); err == nil {
		d.Close()
		t.Error("started with a certificate and no key")
	} else if !strings.Contains(err.Error(), "tls") {
		t.Errorf("err = %v, want it to name TLS", err)
	}
}
