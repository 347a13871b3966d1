import { execFileSync } from 'node:child_process';

/** The path of a Chromium on the PATH (Debian's `chromium`, or Chrome), or undefined. */
export function findChromium(): string | undefined {
  for (const name of ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8', stdio: 'pipe' }).trim();
    } catch {
      // not this one
    }
  }
  return undefined;
}

/** Flags for a headless Chromium that runs in a container as root and shows no first-run pages. */
export const HEADLESS_CHROMIUM = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'];
