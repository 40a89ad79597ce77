/**
 * A self-signed certificate for 127.0.0.1 (EC P-256, valid for a hundred
 * years from 2026), for tests that need a TLS server on loopback. Made with
 * `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes
 * -days 36500 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1`;
 * its key protects nothing.
 */

/** The certificate (PEM); a client trusts it as its CA. */
export const LOOPBACK_CERT = `-----BEGIN CERTIFICATE-----
MIIBjzCCATagAwIBAgIUBOCazYXdkOHFTxAVx8Z19vArTe0wCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTEyOTE4MjQ1MFoYDzIxMjYxMTA1
MTgyNDUwWjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAS08DnfChz1fLT09+GPwPsmjUDZv3XeGz2fwyjAriNnOPpMg0L86bVm
Uhcm32KO7x1kDNynJvkLPMXuwzLkXrrFo2QwYjAdBgNVHQ4EFgQUxU/hO1+8cJGE
lGBpCGwR4iYLpAwwHwYDVR0jBBgwFoAUxU/hO1+8cJGElGBpCGwR4iYLpAwwDwYD
VR0TAQH/BAUwAwEB/zAPBgNVHREECDAGhwR/AAABMAoGCCqGSM49BAMCA0cAMEQC
IBtU2A2XJefQaiZW8aUQ/PYgEAIBpJPZhlRakvJm5piNAiBkWaSRIEQT7Fivp7sY
9npouXy57UZC824aWUqN/EfUtQ==
-----END CERTIFICATE-----
`;

/** Its private key (PEM). */
export const LOOPBACK_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgNspG96Z20Fw/pEQx
Y2iAIF3a6TM/B+JO6PCodO0aHUmhRANCAAS08DnfChz1fLT09+GPwPsmjUDZv3Xe
Gz2fwyjAriNnOPpMg0L86bVmUhcm32KO7x1kDNynJvkLPMXuwzLkXrrF
-----END PRIVATE KEY-----
`;
