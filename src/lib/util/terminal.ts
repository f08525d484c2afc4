/**
 * Driver-provided text (a type's `name` and `description`) in human-readable output. Upstream
 * prints it as it is, and scripts compare those bytes, so only what a terminal would act on is
 * shown escaped: ESC and the other C0 controls except TAB and LF, DEL, and the C1 range
 * (U+0080-U+009F, which some terminals take as CSI and friends). TAB and LF stay as they are.
 * JSON output is never passed through this: JSON has its own escaping.
 */

// C0 without TAB (0x09) and LF (0x0a), DEL, C1
const ACTED_ON = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

const SHORT: Record<string, string> = { '\b': '\\b', '\f': '\\f', '\r': '\\r' };

function escapeOne(c: string): string {
  return SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** TEXT with every character a terminal acts on shown as an escape (`\u001b`, `\r`). */
export function escapeForTerminal(text: string): string {
  return text.replace(ACTED_ON, escapeOne);
}
