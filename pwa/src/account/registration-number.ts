// Social Work England registration numbers: "SW" followed by digits
// (SW123456). People type them in lower case or with spaces, so those are
// accepted and stored normalised; anything else gets a plain message, since a
// wrong number on a portfolio's cover is worse than none.

export type RegistrationNumberCheck = { ok: true; value: string } | { ok: false; message: string };

const SHAPE = /^SW\d{1,10}$/;

/** The number normalised ("sw 123 456" → "SW123456"), "" for nothing typed, or why it is not one. */
export function checkRegistrationNumber(input: string): RegistrationNumberCheck {
  const value = input.replace(/\s+/g, "").toUpperCase();
  if (value === "" || SHAPE.test(value)) return { ok: true, value };
  if (/^\d+$/.test(value)) return { ok: false, message: `Start it with SW, like SW${value}.` };
  return { ok: false, message: "A Social Work England registration number is SW followed by digits, like SW123456." };
}
