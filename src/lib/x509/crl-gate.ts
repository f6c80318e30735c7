/**
 * OpenSSL as the parsing gate for CRLs. node:crypto has no CRL parser, and src/lib may not
 * import node:tls (the layering rule), so the io layer registers a function that makes
 * OpenSSL parse a CRL (src/io/files.ts: tls.createSecureContext({crl})) and loadCrl calls
 * it: a CRL OpenSSL cannot read is refused as ALB refuses it (InvalidRevocationContent).
 */
let gate: ((pem: string) => void) | undefined;

/** Registers the OpenSSL parse check (throws when OpenSSL cannot parse the PEM CRL). */
export function setCrlParseGate(f: (pem: string) => void): void {
  gate = f;
}

/** Runs the registered check, if any; returns OpenSSL's complaint, or null when it parsed. */
export function opensslCrlProblem(pem: string): string | null {
  if (!gate) return null;
  try {
    gate(pem);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}
