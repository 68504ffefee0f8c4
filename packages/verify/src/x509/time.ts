import { malformed, TAG, type DerElement } from './der.ts';

/**
 * RFC 5280 section 4.1.2.5: validity times are UTCTime `YYMMDDHHMMSSZ` through 2049 and
 * GeneralizedTime `YYYYMMDDHHMMSSZ` from 2050, always in UTC, with seconds and without
 * fractions. Anything else is refused rather than interpreted.
 */

const UTC_TIME = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;
const GENERALIZED_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/;

function daysInMonth(year: number, month: number): number {
  // Day 0 of the next month is the last day of this one.
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Milliseconds since the Unix epoch of a certificate time. */
export function decodeTime(element: DerElement, what: string): number {
  const utc = element.tag === TAG.utcTime;
  if (!utc && element.tag !== TAG.generalizedTime)
    throw malformed(`${what} is not a UTCTime or GeneralizedTime`);
  const text = Buffer.from(element.content).toString('latin1');
  const match = (utc ? UTC_TIME : GENERALIZED_TIME).exec(text);
  if (match === null) throw malformed(`${what} is not a UTCTime or GeneralizedTime in RFC 5280 form`);
  const [, yearText, ...rest] = match as unknown as [string, string, string, string, string, string, string];
  const [month, day, hour, minute, second] = rest.map(Number) as [number, number, number, number, number];
  let year = Number(yearText);
  if (utc) year += year < 50 ? 2000 : 1900;
  else if (year < 2050) throw malformed(`${what} uses GeneralizedTime for a year before 2050`);
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth(year, month) ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    throw malformed(`${what} is not a real date and time`);
  }
  return Date.UTC(year, month - 1, day, hour, minute, second);
}
