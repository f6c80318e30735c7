/** The environment variable holding a PKCS#12 password (kept apart from pkcs12.ts so flags can name it without loading the ASN.1 schemas). */
export const P12_PASSWORD_ENV = 'MTLS_KIT_P12_PASSWORD';
