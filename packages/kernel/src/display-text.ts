/**
 * The JSON-schema `pattern` of display text (a user's, an organization's or a client's name),
 * which the hosted pages show to people: not blank, and no control characters — C0 (line breaks,
 * NUL, terminal escapes), DEL and C1 — and no bidirectional embedding, override or isolate
 * controls (U+202A–U+202E, U+2066–U+2069), with which a name can display as different text than
 * it holds ("Trojan Source", CVE-2021-42574) on a consent or organization page.
 *
 * @example
 * const Name = Type.String({ minLength: 1, maxLength: 200, pattern: DISPLAY_TEXT_PATTERN });
 */
export const DISPLAY_TEXT_PATTERN =
  '^(?!\\s*$)[^\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]+$';
