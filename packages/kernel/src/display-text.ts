/**
 * The JSON-schema `pattern` of display text (a user's, an organization's or a client's name),
 * which the hosted pages show to people: not blank, and no control characters — C0 (line breaks,
 * NUL, terminal escapes), DEL and C1 — and no bidirectional embedding, override or isolate
 * controls (U+202A–U+202E, U+2066–U+2069), with which a name can display as different text than
 * it holds ("Trojan Source", CVE-2021-42574) on a consent or organization page; nor the invisible
 * characters with which a name shows as nothing or as another (zero-width space, direction marks,
 * line and paragraph separators, word joiners, the byte-order mark, tag characters). Zero-width
 * joiners stay: emoji sequences and several scripts need them, but not as all a name holds.
 *
 * @example
 * const Name = Type.String({ minLength: 1, maxLength: 200, pattern: DISPLAY_TEXT_PATTERN });
 */
export const DISPLAY_TEXT_PATTERN =
  '^(?![\\s\\u200c\\u200d]*$)' +
  '[^\\u0000-\\u001f\\u007f-\\u009f\\u200b\\u200e\\u200f\\u2028-\\u202e\\u2060-\\u2069\\ufeff\\u{e0000}-\\u{e007f}]+$';
