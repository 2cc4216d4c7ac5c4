// The app's own settings for this user (notifications on/off, start at login), kept under
// $XDG_CONFIG_HOME/clatbar/app.json (zod-checked, written atomically), and start-at-login as the
// XDG autostart override in $XDG_CONFIG_HOME/autostart/clatbar.desktop: the package ships
// /etc/xdg/autostart/clatbar.desktop; turning it off writes the user's own entry with Hidden=true
// (which hides the system one, per the XDG Autostart spec), turning it on removes that override,
// or writes a full entry when the package's is not installed (a development checkout).
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { z } from 'zod';
import type { AppSettings } from '../shared/ipc.js';

const StoredSchema = z.object({ version: z.literal(1), notifications: z.boolean() }).strip();

export interface SettingsPaths {
  /** $XDG_CONFIG_HOME (default ~/.config). */
  configHome: string;
  /** The package's autostart entry. */
  systemAutostart: string;
  /** The command a user entry runs when the package's entry is absent. */
  exec: string;
}

export function defaultSettingsPaths(exec: string): SettingsPaths {
  return {
    configHome: process.env.XDG_CONFIG_HOME || join(homedir(), '.config'),
    systemAutostart: '/etc/xdg/autostart/clatbar.desktop',
    exec,
  };
}

export class SettingsStore {
  private readonly file: string;
  private readonly autostart: string;
  /** Why the stored file was not used, if it was not (shown once in the log). */
  readonly problem: string | null = null;
  private notifications = true;

  constructor(private readonly paths: SettingsPaths) {
    this.file = join(paths.configHome, 'clatbar', 'app.json');
    this.autostart = join(paths.configHome, 'autostart', 'clatbar.desktop');
    try {
      if (existsSync(this.file)) {
        this.notifications = StoredSchema.parse(JSON.parse(readFileSync(this.file, 'utf8'))).notifications;
      }
    } catch (err) {
      // A broken file: the defaults apply, and the next change writes a good one.
      this.problem = `${this.file} is not valid (${(err as Error).message.split('\n')[0]}); using the defaults`;
    }
  }

  get(): AppSettings {
    return { notifications: this.notifications, startAtLogin: this.startsAtLogin() };
  }

  private startsAtLogin(): boolean {
    if (existsSync(this.autostart))
      return !/^Hidden\s*=\s*true\s*$/m.test(readFileSync(this.autostart, 'utf8'));
    return existsSync(this.paths.systemAutostart);
  }

  async set(patch: Partial<AppSettings>): Promise<AppSettings> {
    if (patch.notifications !== undefined && patch.notifications !== this.notifications) {
      mkdirSync(dirname(this.file), { recursive: true });
      await writeFileAtomic(
        this.file,
        `${JSON.stringify({ version: 1, notifications: patch.notifications })}\n`,
      );
      this.notifications = patch.notifications;
    }
    if (patch.startAtLogin !== undefined && patch.startAtLogin !== this.startsAtLogin()) {
      mkdirSync(dirname(this.autostart), { recursive: true });
      if (!patch.startAtLogin)
        await writeFileAtomic(
          this.autostart,
          '[Desktop Entry]\nType=Application\nName=clatbar\n# Written by clatbar: start at login is off.\nHidden=true\n',
        );
      else if (existsSync(this.paths.systemAutostart)) rmSync(this.autostart, { force: true });
      else
        await writeFileAtomic(
          this.autostart,
          `[Desktop Entry]\nType=Application\nName=clatbar\nComment=IPv4 for IPv6-only networks\nExec=${this.paths.exec}\nIcon=clatbar\nX-GNOME-Autostart-enabled=true\n`,
        );
    }
    return this.get();
  }
}
