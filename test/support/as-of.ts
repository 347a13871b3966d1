/** The day most engine tests score for (`asOf`, UTC). */
export const AS_OF = '2026-11-24';
/** The end of AS_OF's window, T in docs/models.md: midnight UTC after AS_OF. */
export const WINDOW_END = Date.parse('2026-11-25T00:00:00Z');
/** An instant 4 days 14 hours before WINDOW_END: inside any window of AS_OF of 5 days or more. */
export const IN_WINDOW = '2026-11-20T10:00:00Z';
