/**
 * Function output is data, not terminal control. A function's log line may carry ANSI/OSC escape sequences (colour,
 * cursor moves, a window title, a clipboard write through OSC 52, a hyperlink): printed as is, they act on the
 * operator's terminal. The CLI prints them as visible text (`\x1b[31m`); `--json` keeps the line exact (JSON escapes
 * control characters itself).
 */

// C0 controls except tab, DEL, and the C1 range (0x9b is a one-byte CSI, 0x9d a one-byte OSC)
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g

/** `text` with every control character shown as `\xNN` (tab kept). */
export function neutralizeControls(text: string): string {
  return text.replace(CONTROL_RE, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}
