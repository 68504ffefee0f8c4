import { container, encodingError, TAG, tlv, type Der } from './tlv.ts';

const utf8 = new TextEncoder();

/**
 * A string whose characters all pass `allowed` (all below 0x80), kept as text until the tree
 * is encoded (see DerPart): no buffer and no TextEncoder. Undefined at the first other character.
 */
function asciiElement(tag: number, text: string, allowed: (code: number) => boolean): Der | undefined {
  for (let index = 0; index < text.length; index += 1) {
    if (!allowed(text.charCodeAt(index))) return undefined;
  }
  return container(tag, [text]);
}

function isAscii(code: number): boolean {
  return code < 0x80;
}

/**
 * UTF8String. ASCII text (every ID Orbis writes) takes the direct path; anything else goes
 * through TextEncoder, except a lone surrogate, which has no UTF-8 form and which TextEncoder
 * would silently turn into U+FFFD: it is refused.
 */
export function utf8String(text: string): Der {
  const ascii = asciiElement(TAG.UTF8_STRING, text, isAscii);
  if (ascii !== undefined) return ascii;
  if (!text.isWellFormed()) throw encodingError('a UTF8String cannot hold a lone surrogate');
  return tlv(TAG.UTF8_STRING, utf8.encode(text));
}

/** X.680 41.4, Table 10: letters, digits, space and ' ( ) + , - . / : = ? */
function isPrintable(code: number): boolean {
  return (
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x61 && code <= 0x7a) ||
    (code >= 0x30 && code <= 0x39) ||
    " '()+,-./:=?".includes(String.fromCharCode(code))
  );
}

export function printableString(text: string): Der {
  const element = asciiElement(TAG.PRINTABLE_STRING, text, isPrintable);
  if (element === undefined) throw encodingError('a PrintableString holds only X.680 Table 10 characters');
  return element;
}

/** IA5String: International Alphabet No. 5, the 128 ASCII code points. URIs in GeneralNames use it. */
export function ia5String(text: string): Der {
  const element = asciiElement(TAG.IA5_STRING, text, isAscii);
  if (element === undefined) throw encodingError('an IA5String holds only ASCII');
  return element;
}
