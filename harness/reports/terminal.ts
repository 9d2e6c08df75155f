/**
 * Untrusted text (close reasons, payloads shown as text, messages carrying
 * what a target sent) made safe for a terminal or a line-based report: no
 * escape sequence (ANSI CSI/OSC: clearing the screen, retitling the window),
 * no NUL, no line break that could forge a line (a fake TAP `ok 1` line).
 */

/** C0 controls, DEL, C1 controls, and the Unicode line/paragraph separators and bidi overrides. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Same set, but keeping line feed and tab (for whole multi-line outputs that the tool itself produced). */
const UNSAFE_KEEP_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const escapeChar = (ch: string): string => {
  const c = ch.charCodeAt(0);
  return c <= 0xff ? `\\x${c.toString(16).padStart(2, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`;
};

/**
 * One line of untrusted text for a terminal: every control character
 * (including CR and LF), DEL, C1 control, U+2028/2029 and bidi override is
 * shown as a visible `\xHH` / `\uHHHH` escape.
 */
export function forTerminal(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/**
 * Output that is the tool's own (its line feeds and tabs are kept) but may
 * embed untrusted text: every other control character is escaped as in
 * {@link forTerminal}. A safety net at the output boundary; single values
 * should go through {@link forTerminal} where they are inserted.
 */
export function forTerminalKeepLines(text: string): string {
  return text.replace(UNSAFE_KEEP_LINES, escapeChar);
}
