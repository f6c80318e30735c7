/**
 * The PKCS#10 structure decoded by `@peculiar/asn1-csr` (RFC 2986). Imported only by
 * csr.ts through a dynamic import, so the ASN.1 schemas load only in `sign`.
 */
import {CertificationRequest} from '@peculiar/asn1-csr';
import {AsnConvert} from '@peculiar/asn1-schema';

export interface DecodedCsr {
  version: number;
  /** The signed CertificationRequestInfo bytes, as they are in the request. */
  infoRaw: Uint8Array;
  attributes: Array<{type: string; values: Uint8Array[]}>;
}

/**
 * Decodes a CertificationRequest.
 * @throws Error (asn1-schema's) when the bytes are not one.
 */
export function decodeCsr(der: Uint8Array): DecodedCsr {
  const req = AsnConvert.parse(der, CertificationRequest);
  const info = req.certificationRequestInfo;
  return {
    version: info.version,
    infoRaw: new Uint8Array(req.certificationRequestInfoRaw!),
    attributes: info.attributes.map((a) => ({type: a.type, values: a.values.map((v) => new Uint8Array(v))})),
  };
}
