// The engine's log, in both run modes: every line goes to stdout (journald under systemd) and
// into a bounded in-memory ring that the control API's `logs` and `subscribe` read. Bounded: the
// oldest line goes when a new one comes past the capacity.
import type { LogLine, Message } from '../../shared/status.js';

export const LOG_RING_LINES = 2000;
const WARNING_WORDS = /^(warning|firewall warning)\b/i;

export class LogRing {
  private readonly lines: LogLine[] = [];
  private seq = 0;
  private readonly listeners = new Set<(line: LogLine) => void>();

  constructor(
    private readonly out: (text: string) => void = (t) => process.stdout.write(`${t}\n`),
    private readonly capacity = LOG_RING_LINES,
  ) {}

  /** A plain line; "warning: ..." and "firewall warning: ..." lines count as warnings. */
  readonly log = (text: string): void => {
    this.push(text);
  };

  warn(text: string, m?: Omit<Message, 'text'>): void {
    this.push(text, 'warn', m);
  }

  push(
    text: string,
    level: LogLine['level'] = WARNING_WORDS.test(text) ? 'warn' : 'info',
    m?: Omit<Message, 'text'>,
  ): LogLine {
    const line: LogLine = { seq: ++this.seq, time: new Date().toISOString(), level, text };
    if (m?.code) line.code = m.code;
    if (m?.params) line.params = m.params;
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
