// The engine's log, in both run modes: every line goes to stdout (journald under systemd) and
// into a bounded in-memory ring that the control API's `logs` and `subscribe` read. Bounded: the
// oldest line goes when a new one comes past the capacity.
//
// Lines carry text others chose (a NetworkManager connection name any desktop user can set,
// messages from the bus and from tools): a newline in it would start a line of its own in the
// journal and in `clatbar logs`, which could pass for one of the engine's ("policy ... set by
// uid 0"), and terminal escapes would reach the admin's terminal. So every control character
// (and the Unicode line separators and bidi overrides) is written as a visible escape: one
// log call is one line, showing what was there. The parameters are escaped the same way: the
// app fills them into the translated words of the line's code.
//
// Every line is a coded message (say.ts): its code and parameters go to the clients, which show
// it in their language; its English text goes to stdout and into the line's text.
import type { LogLine } from '../../shared/status.js';
import type { Said } from '../../shared/say.js';

export const LOG_RING_LINES = 2000;
const WARNING_WORDS = /^(warning|firewall warning)\b/i;
/** C0 controls but tab, DEL, C1 controls, U+2028/2029, and the bidi embeddings/overrides/isolates. */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** text with every character that could start a line or steer a terminal written as an escape. */
export function escapeLogText(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

export class LogRing {
  private readonly lines: LogLine[] = [];
  private seq = 0;
  private readonly listeners = new Set<(line: LogLine) => void>();

  constructor(
    private readonly out: (text: string) => void = (t) => process.stdout.write(`${t}\n`),
    private readonly capacity = LOG_RING_LINES,
  ) {}

  /** A line at level info, unless its English says "warning: ..." or "firewall warning: ...". */
  readonly log = (m: Said): void => {
    this.push(m);
  };

  readonly warn = (m: Said): void => {
    this.push(m, 'warn');
  };

  push(m: Said, level: LogLine['level'] = WARNING_WORDS.test(m.text) ? 'warn' : 'info'): LogLine {
    const text = escapeLogText(m.text);
    const line: LogLine = { seq: ++this.seq, time: new Date().toISOString(), level, text, code: m.code };
    if (m.params)
      line.params = Object.fromEntries(
        Object.entries(m.params).map(([k, v]) => [k, typeof v === 'string' ? escapeLogText(v) : v]),
      );
    this.lines.push(line);
    if (this.lines.length > this.capacity) this.lines.shift();
    // stdout says the level unless the words already do ("warning: ...").
    this.out(level !== 'info' && !WARNING_WORDS.test(text) ? `${level}: ${text}` : text);
    for (const l of this.listeners) {
      try {
        l(line);
      } catch {
        // A listener's failure is its own (a closed socket); the log goes on.
      }
    }
    return line;
  }

  /** Lines with seq > since, the newest `limit` of them. */
  since(since = 0, limit = 500): LogLine[] {
    const after = this.lines.filter((l) => l.seq > since);
    return after.slice(Math.max(0, after.length - limit));
  }

  onLine(listener: (line: LogLine) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
