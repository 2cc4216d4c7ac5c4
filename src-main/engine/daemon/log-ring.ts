// The engine's log: every line goes to stdout (journald when systemd runs the engine) and into a
// bounded in-memory ring that the control API's `logs` and `subscribe` read.
import type { LogLine, Message } from '../../shared/status.js';

export const LOG_RING_LINES = 2000;

export class LogRing {
  private readonly lines: LogLine[] = [];
  private seq = 0;
  private readonly listeners = new Set<(line: LogLine) => void>();

  constructor(
    private readonly out: (text: string) => void = (t) => process.stdout.write(`${t}\n`),
    private readonly max = LOG_RING_LINES,
  ) {}

  /** A plain line (the CLAT instance's bring-up words). */
  readonly log = (text: string): void => this.write('info', text);

  warn(text: string, m?: Omit<Message, 'text'>): void {
    this.write('warn', text, m);
  }

  write(level: LogLine['level'], text: string, m?: Omit<Message, 'text'>): void {
    const line: LogLine = { seq: ++this.seq, time: new Date().toISOString(), level, text };
    if (m?.code) line.code = m.code;
    if (m?.params) line.params = m.params;
    this.lines.push(line);
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max);
    this.out(level === 'warn' || level === 'error' ? `${level}: ${text}` : text);
    for (const l of this.listeners) {
      try {
        l(line);
      } catch {
        // A listener's failure is its own (a closed socket); the log goes on.
      }
    }
  }

  /** Lines with seq > since, the last `limit` of them. */
  since(since = 0, limit = 500): LogLine[] {
    const after = this.lines.filter((l) => l.seq > since);
    return after.slice(Math.max(0, after.length - limit));
  }

  onLine(fn: (line: LogLine) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}
